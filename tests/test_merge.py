"""The merge process: a failure there reaches the runner with its cause, not as a silent stop."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.errors import HopsimError
from sim.runner.merge import Merge
from sim.runner.shard import ShardResult


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
