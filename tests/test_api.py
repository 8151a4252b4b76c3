"""The Python API mirrors ``hopsim run``."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.errors import ConfigError
from sim.trace.reader import read_jsonl

TINY = Path(__file__).resolve().parent / "fixtures" / "scenarios" / "tiny.toml"


def test_run_returns_summary_and_paths(tmp_path: Path) -> None:
    result = sim.run(TINY, persons=4, days=1, seed=5, out=tmp_path / "r")
    assert result.folder == tmp_path / "r"
    assert result.summary["persons"] == 4 and result.summary["seed"] == 5
    assert sum(1 for _ in read_jsonl(result.trace)) == result.summary["events"]
    assert result.truth.exists() and result.profiles.exists()
    assert result.messages is None and result.report is None


def test_run_raises_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n')
    with pytest.raises(ConfigError) as caught:
        sim.run(bad, out=tmp_path / "x")
    assert any("bad.toml" in p for p in caught.value.problems)
