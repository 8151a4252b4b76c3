"""The run's row tables (truth, people, journeys): sorted by each shard, collated by the merge.

A run's ``truth.jsonl.gz``, ``people.jsonl`` and ``journeys.jsonl`` are each
in one order (by household and device, by person, by time and person).
Like the trace, they are put together the way a clerk collates sorted piles:
each shard sorts its own rows and writes them as JSON lines with the order
key in front (:func:`write_parts`, in the worker, while other workers still
simulate), and the merge process (:mod:`sim.runner.merge`) interleaves the piles
(:func:`merge_tables`) while the runner finalizes the identity graph. No
row is decoded to find its place, and collating holds no whole table.

The output is the same bytes as sorting every shard's rows together: the
order keys are unique but for journeys, and a person's journeys, the only
rows that can share a key, are all in one shard, in the order they happened
(:func:`heapq.merge` keeps equal keys in the order of the piles and of each
pile, as a stable sort keeps them in the order of the shards).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.trace.writer import JsonlGzWriter, dump_line

Row = dict[str, Any]
BUFFER = 1 << 20
LINES = 4096  # lines handed to the writer at once


@dataclass(frozen=True)
class Table:
    """One table of the run folder: its file name and the fields it is sorted by."""

    name: str
    order: tuple[str, ...]

    def key(self, row: Row) -> tuple[str, ...]:
        return tuple(row[field] for field in self.order)


TRUTH = Table("truth.jsonl.gz", ("household_id", "device_id"))
PEOPLE = Table("people.jsonl", ("person_id",))
JOURNEYS = Table("journeys.jsonl", ("at", "person_id"))
TABLES = (TRUTH, PEOPLE, JOURNEYS)


def part_path(folder: Path, table: Table, shard: int) -> Path:
    """Where shard ``shard`` writes its pile of ``table``."""
    return folder / f"{table.name.split('.')[0]}-{shard}.part"


def write_parts(folder: Path, shard: int, rows: Sequence[Sequence[Row]]) -> list[Path]:
    """Each table's rows of one shard (in :data:`TABLES` order), sorted, as keyed lines."""
    paths = []
    for table, table_rows in zip(TABLES, rows, strict=True):
        path = part_path(folder, table, shard)
        keyed = sorted(((table.key(row), row) for row in table_rows), key=_first)
        with path.open("wb", buffering=BUFFER) as out:
            for key, row in keyed:
                out.write(_keyed_line(table, key, row))
        paths.append(path)
    return paths


def _first(item: tuple[tuple[str, ...], Row]) -> tuple[str, ...]:
    return item[0]


def _keyed_line(table: Table, key: tuple[str, ...], row: Row) -> bytes:
    """``key1<TAB>key2<TAB>json``: the order key readable without decoding the row."""
    for value in key:
        if "\t" in value or "\n" in value:
            raise ValueError(f"{table.name}: order field value {value!r} holds a tab or newline")
    return "\t".join(key).encode() + b"\t" + dump_line(row)


def read_part(path: Path, width: int) -> Iterator[tuple[tuple[bytes, ...], bytes]]:
    """A pile as (order key, JSON line with its newline)."""
    with path.open("rb", buffering=BUFFER) as handle:
        for line in handle:
            *key, body = line.split(b"\t", width)
            yield tuple(key), body


def merge_tables(parts: Sequence[Sequence[Path]], out: Path) -> None:
    """Collate every shard's piles (``parts[shard]`` in :data:`TABLES` order) into ``out``.

    The keys are compared as UTF-8 bytes, which order as the strings do.
    """
    for number, table in enumerate(TABLES):
        piles = [read_part(shard[number], len(table.order)) for shard in parts]
        lines = (body for _, body in heapq.merge(*piles, key=_order))
        _write(out / table.name, lines)
        for shard in parts:
            shard[number].unlink()


def _order(item: tuple[tuple[bytes, ...], bytes]) -> tuple[bytes, ...]:
    return item[0]


def _write(path: Path, lines: Iterator[bytes]) -> None:
    if path.suffix == ".gz":
        with JsonlGzWriter(path) as gz:
            for batch in _batches(lines):
                gz.write_lines(batch)
        return
    with path.open("wb", buffering=BUFFER) as plain:
        for batch in _batches(lines):
            plain.writelines(batch)


def _batches(lines: Iterator[bytes]) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= LINES:
            yield batch
            batch = []
    if batch:
        yield batch
