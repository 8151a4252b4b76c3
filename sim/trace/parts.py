"""Shard parts: a worker's share of the trace, ready to be merged without parsing.

When several workers simulate a run, each writes its events to a part file,
one line per event: ``timestamp<TAB>messageId<TAB>json``. The merge reads the
order key off the front of the line (JSON never contains a raw tab) and
interleaves the parts like a card dealer collating sorted piles, so the
runner never decodes an event just to find its place. Parts are written
uncompressed: they live for the length of a run, and compressing them only
to decompress them again would spend the workers' time twice.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

from sim.trace.writer import dump_line

Keyed = tuple[bytes, bytes, bytes]
BUFFER = 1 << 20


class PartWriter:
    """Append events to a part file with their order key in front."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._raw = path.open("wb", buffering=BUFFER)
        self.count = 0

    def write(self, record: Mapping[str, Any]) -> None:
        self.write_many([record])

    def write_many(self, records: Sequence[Mapping[str, Any]]) -> None:
        self._raw.write(
            b"".join(
                f"{r['timestamp']}\t{r['messageId']}\t".encode() + dump_line(r) for r in records
            )
        )
        self.count += len(records)

    def close(self) -> None:
        self._raw.close()


def read_part(path: Path) -> Iterator[Keyed]:
    """A part as (timestamp, messageId, JSON line with its newline)."""
    with path.open("rb", buffering=BUFFER) as handle:
        for line in handle:
            stamp, message_id, body = line.split(b"\t", 2)
            yield stamp, message_id, body


def read_minutes(path: Path) -> Iterator[tuple[bytes, list[Keyed]]]:
    """A part a minute at a time: (``YYYY-MM-DDTHH:MM``, that minute's keyed lines)."""
    for minute, lines in groupby(read_part(path), key=lambda keyed: keyed[0][:16]):
        yield minute, list(lines)


def merge_parts(paths: list[Path]) -> Iterator[bytes]:
    """The JSON lines of every part, in the trace's one order (timestamp, then messageId)."""
    for batch in merge_minutes(paths):
        yield from batch


def merge_minutes(paths: list[Path]) -> Iterator[list[bytes]]:
    """Like :func:`merge_parts`, a minute of lines at a time.

    The parts are collated minute by minute, like dealing sorted piles a
    handful at a time: each minute's lines from every part are sorted
    together, so the heap works once per part and minute, not once per line.
    """
    minutes = heapq.merge(*(read_minutes(p) for p in paths), key=lambda group: group[0])
    for _minute, groups in groupby(minutes, key=lambda group: group[0]):
        keyed = [line for _, lines in groups for line in lines]
        keyed.sort()
        yield [body for _, _, body in keyed]
