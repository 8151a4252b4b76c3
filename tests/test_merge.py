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
        with pytest.raises(HopsimError, match=r"the merge failed:(?s:.)*FileNotFoundError"):
            merge.wait()
    finally:
        merge.cancel()
