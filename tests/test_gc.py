"""The runner's GC pace is a speed trick: same bytes with and without it, thresholds restored."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

import sim.runner.gc
from sim.runner import Run
from sim.world.scenario import load_scenario

TINY = Path(__file__).resolve().parent / "fixtures" / "scenarios" / "tiny.toml"


def test_fewer_collections_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    with sim.runner.gc.fewer_collections(12_345):
        assert gc.get_threshold()[0] == 12_345
    assert gc.get_threshold() == before


def test_a_run_writes_the_same_bytes_at_any_gc_pace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = load_scenario(TINY).with_overrides(days=2)
    before = gc.get_threshold()
    Run(scenario, tmp_path / "fast").execute()
    assert gc.get_threshold() == before  # a library call leaves the interpreter as it was
    monkeypatch.setattr(sim.runner.gc, "YOUNG", 700)
    monkeypatch.setattr(sim.runner.gc.fewer_collections, "__defaults__", (700,))
    Run(scenario, tmp_path / "default").execute()
    for name in ("trace.jsonl.gz", "truth.jsonl.gz", "profiles.jsonl", "people.jsonl"):
        assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "default" / name).read_bytes()
