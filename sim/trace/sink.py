"""Ordered sinks: stream records to ``.jsonl.gz`` in one total order.

Events arrive in simulation order. Within one millisecond two people may act
at once; the sink orders such ties by a second key (``messageId`` for the
trace) so the bytes depend only on what happened, never on which process
SimPy happened to wake first. That is what lets several worker processes
produce the very same trace, merged by :mod:`sim.trace.parts`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from sim.trace.parts import PartWriter
from sim.trace.writer import JsonlGzWriter

Record = dict[str, Any]


class RecordWriter(Protocol):
    """Where an ordered sink puts its records: a ``.jsonl.gz`` file or a shard part."""

    path: Path
    count: int

    def write(self, record: Mapping[str, Any]) -> None: ...

    def write_many(self, records: Sequence[Mapping[str, Any]]) -> None: ...

    def close(self) -> None: ...


class OrderedSink:
    """Write records whose ``stamp`` field never decreases; break ties by ``tie``."""

    def __init__(self, writer: RecordWriter, stamp: str, tie: str) -> None:
        self.writer = writer
        self.stamp_field = stamp
        self.tie_field = tie
        self._stamp = ""
        self._pending: list[Record] = []

    def key(self, record: Record) -> tuple[str, str]:
        return record[self.stamp_field], record[self.tie_field]

    def add(self, record: Record) -> None:
        if record[self.stamp_field] != self._stamp:
            self.flush()
            self._stamp = record[self.stamp_field]
        self._pending.append(record)

    def flush(self) -> None:
        pending = self._pending
        if len(pending) > 1:
            pending.sort(key=self.key)
        write = self.writer.write
        for record in pending:
            write(record)
        pending.clear()

    def close(self) -> int:
        self.flush()
        self.writer.close()
        return self.writer.count


def context_key(row: Record) -> tuple[str, str]:
    """The order of ``contexts.jsonl.gz``: when a band ended, then whose it was."""
    return row["end"], row["person_id"]


class TraceSink:
    """Writes the trace from the world's ``events_released`` hook.

    The world releases each minute already in trace order (time, then
    messageId), so the sink only encodes and appends.
    """

    def __init__(self, path: Path, part: bool = False) -> None:
        self.writer: RecordWriter = PartWriter(path) if part else JsonlGzWriter(path)

    def on_events(self, events: Sequence[Mapping[str, Any]], **_: Any) -> None:
        self.writer.write_many(events)

    def close(self) -> int:
        self.writer.close()
        return self.writer.count
