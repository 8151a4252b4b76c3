"""The row tables collated from shard piles are the bytes of one sort over every shard's rows."""

from __future__ import annotations

import gzip
import random
import re
from pathlib import Path
from typing import Any

import pytest

from sim.runner.tables import JOURNEYS, PEOPLE, TABLES, TRUTH, merge_tables, write_parts
from sim.trace.writer import dump_line

Row = dict[str, Any]


def shard_rows(
    shard: int, count: int, rng: random.Random
) -> tuple[list[Row], list[Row], list[Row]]:
    """Rows of the households dealt to ``shard`` (household i to shard i mod count), unsorted."""
    truth, people, journeys = [], [], []
    for household in range(shard, 30, count):
        for person in range(rng.randint(1, 3)):
            person_id = f"p{household:03d}-{person}"
            people.append({"person_id": person_id, "household_id": f"h{household:03d}"})
            for order in range(rng.randint(0, 3)):  # some at the same moment: ties
                at = f"2026-01-01T{rng.choice(['09', '10', '11'])}:00:00.000Z"
                journeys.append({"at": at, "person_id": person_id, "order": order})
        for _ in range(rng.randint(1, 4)):
            truth.append({"device_id": f"d{rng.random():.6f}", "household_id": f"h{household:03d}"})
    for rows in (truth, people, journeys):
        rng.shuffle(rows)
    return truth, people, journeys


def one_sort(shards: list[tuple[list[Row], list[Row], list[Row]]], number: int) -> bytes:
    """What the runner wrote before the piles: every shard's rows in shard order, sorted once."""
    table = TABLES[number]
    rows = sorted((row for shard in shards for row in shard[number]), key=table.key)
    return b"".join(dump_line(row) for row in rows)


@pytest.mark.parametrize("count", [1, 2, 5])
def test_piles_collate_to_one_sort(tmp_path: Path, count: int) -> None:
    rng = random.Random(count)
    shards = [shard_rows(k, count, rng) for k in range(count)]
    # A person's journeys keep the order they happened in, ties included.
    for shard in shards:
        shard[2].sort(key=lambda row: (row["person_id"], -row["order"]))
    parts = [write_parts(tmp_path, k, rows) for k, rows in enumerate(shards)]
    merge_tables(parts, tmp_path)
    assert gzip.decompress((tmp_path / TRUTH.name).read_bytes()) == one_sort(shards, 0)
    assert (tmp_path / PEOPLE.name).read_bytes() == one_sort(shards, 1)
    assert (tmp_path / JOURNEYS.name).read_bytes() == one_sort(shards, 2)
    assert not list(tmp_path.glob("*.part"))  # the piles are removed once collated


def test_an_order_field_with_a_tab_is_refused(tmp_path: Path) -> None:
    rows: tuple[list[Row], list[Row], list[Row]] = ([], [{"person_id": "p\t1"}], [])
    with pytest.raises(ValueError, match=re.escape("people.jsonl: order field value 'p\\t1'")):
        write_parts(tmp_path, 0, rows)
