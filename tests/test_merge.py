"""The merge process: a failure there reaches the runner with its cause, not as a silent stop."""

from __future__ import annotations

import heapq
import random
from pathlib import Path
from typing import Any

import pytest

from sim.analysis.stitch_costs import owners
from sim.analysis.stitching import read_truth
from sim.errors import HopsimError
from sim.runner.merge import Merge, collate_contexts, device_owners
from sim.runner.shard import ShardResult
from sim.trace.reader import read_jsonl
from sim.trace.sink import context_key
from sim.trace.writer import write_jsonl_gz


def test_a_failing_merge_says_why(tmp_path: Path) -> None:
    missing = tmp_path / "trace-0.part"  # a part the shard never wrote
    shards = [ShardResult(k, missing, 0, 0.0) for k in range(2)]
    merge = Merge(tmp_path, 2)
    try:
        merge.begin(shards)
        assert merge.process is not None
        merge.process.join(10)  # failed and gone before the runner asks for its scores
        merge.ask_scores(False)  # as the runner does after finalize: no broken pipe
        with pytest.raises(HopsimError, match=r"the merge failed:(?s:.)*FileNotFoundError"):
            merge.wait()
    finally:
        merge.cancel()


def test_a_merge_whose_runner_is_gone_ends() -> None:
    """The merge holds no copy of the runner's end of the order pipe, so it sees the runner go."""
    merge = Merge(Path("/nonexistent-run-folder"), 2)
    try:
        assert merge.process is not None
        merge.order.close()  # what a killed runner's end amounts to
        merge.process.join(10)
        assert not merge.process.is_alive()
    finally:
        merge.cancel()


def test_the_costs_read_the_owners_off_the_truth_the_score_read() -> None:
    # The merge reads truth.jsonl.gz once (for the stitching score) and takes the messaging
    # costs' owners from it: the same devices, persons and order as reading the rows again.
    rows: list[dict[str, Any]] = [
        {"device_id": "d1", "device_type": "phone", "person_id": "p1", "household_id": "h1"},
        {"device_id": "tv", "device_type": "tv", "person_id": None, "household_id": "h1"},
        {"device_id": "d2", "device_type": "laptop", "person_id": "p2", "household_id": "h1"},
        {"device_id": "d3", "device_type": "phone", "household_id": "h2"},
    ]
    owner = device_owners(read_truth(rows))
    assert list(owner.items()) == list(owners(rows).items()) == [("d1", "p1"), ("d2", "p2")]


def test_context_logs_collate_as_decoded_and_encoded_rows(tmp_path: Path) -> None:
    """The lines go on as the shards wrote them: the same bytes as rows decoded, merged by
    their key and encoded again, ties between shards included."""
    draw = random.Random(4)
    parts = []
    for shard in range(3):
        rows = [
            {
                "context": draw.choice(["home.sofa", "car.driving", "work.desk"]),
                "end": f"2026-11-02T0{draw.randrange(3)}:00:00.000Z",
                "person_id": f"h{draw.randrange(40):05d}-p{shard}",
                "start": "2026-11-02T00:00:00.000Z",
            }
            for _ in range(4000)
        ]
        parts.append(tmp_path / f"contexts-{shard}.jsonl.gz")
        write_jsonl_gz(parts[-1], sorted(rows, key=context_key))
    collate_contexts(parts, tmp_path / "fast.jsonl.gz")
    merged = heapq.merge(*(read_jsonl(p) for p in parts), key=context_key)
    write_jsonl_gz(tmp_path / "plain.jsonl.gz", merged)
    fast = (tmp_path / "fast.jsonl.gz").read_bytes()
    assert fast == (tmp_path / "plain.jsonl.gz").read_bytes()
    assert len(list(read_jsonl(tmp_path / "fast.jsonl.gz"))) == 12_000  # two gzip blocks
