"""Ordered sinks: stream records to ``.jsonl.gz`` in one total order.

Events arrive in simulation order. Within one millisecond two people may act
at once; the sink orders such ties by a second key (``messageId`` for the
trace) so the bytes depend only on what happened, never on which process
SimPy happened to wake first. That is what lets several worker processes
produce the very same trace, merged with :func:`order_key`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.trace.writer import JsonlGzWriter

Record = dict[str, Any]


class OrderedSink:
    """Write records whose ``stamp`` field never decreases; break ties by ``tie``."""

    def __init__(self, path: Path, stamp: str, tie: str) -> None:
        self.writer = JsonlGzWriter(path)
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
        if len(self._pending) > 1:
            self._pending.sort(key=self.key)
        for record in self._pending:
            self.writer.write(record)
        self._pending.clear()

    def close(self) -> int:
        self.flush()
        self.writer.close()
        return self.writer.count


def order_key(event: Record) -> tuple[str, str]:
    """The one total order of a trace: timestamp, then messageId."""
    return event["timestamp"], event["messageId"]


def context_key(row: Record) -> tuple[str, str]:
    """The order of ``contexts.jsonl.gz``: when a band ended, then whose it was."""
    return row["end"], row["person_id"]


class TraceSink(OrderedSink):
    """Listens to the world's ``event_emitted`` hook and writes the trace."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "timestamp", "messageId")

    def on_event(self, event: Record, **_: Any) -> None:
        self.add(event)
