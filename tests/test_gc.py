"""The runner's GC pace is a speed trick: same bytes with and without it, thresholds restored."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

import sim.runner.gc
import sim.runner.merge
import sim.runner.run
import sim.runner.workers
from sim.runner import Run
from sim.world.scenario import load_scenario
from tests.run_folder import folder_bytes

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
    monkeypatch.setattr(sim.runner.workers, "hold_collections", gc.isenabled)  # pace, not hold
    monkeypatch.setattr(sim.runner.gc, "YOUNG", 700)
    monkeypatch.setattr(sim.runner.gc.fewer_collections.__wrapped__, "__defaults__", (700,))
    Run(scenario, tmp_path / "default").execute()
    fast, default = folder_bytes(tmp_path / "fast"), folder_bytes(tmp_path / "default")
    for name, data in fast.items():
        assert data == default[name], f"{name} differs with the collector's pace"


PROGRAMME = Path(__file__).resolve().parents[1] / "scenarios" / "programme-journey.toml"


def _run_with_collector(out: Path, pace: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """A small multi-day run with campaigns and journeys under one collector ``pace``.

    ``held``: the runner's own hold (no collections while the shard lives);
    the others without it: the collector ``as is``, ``eager`` (a young
    collection after every new container object) or ``off`` throughout.
    """
    scenario = load_scenario(PROGRAMME).with_overrides(persons=120, days=2)
    was_enabled, thresholds = gc.isenabled(), gc.get_threshold()
    with monkeypatch.context() as patch:
        if pace != "held":
            patch.setattr(sim.runner.workers, "hold_collections", gc.isenabled)
            patch.setattr(sim.runner.run, "hold_collections", gc.isenabled)  # the graph's hold
        try:
            if pace == "off":
                gc.disable()
            elif pace == "eager":  # also inside the world build and the steps
                gc.set_threshold(1, 1, 1)
                patch.setattr(sim.runner.gc.fewer_collections.__wrapped__, "__defaults__", (1,))
            Run(scenario, out).execute()
        finally:
            gc.set_threshold(*thresholds)
            if was_enabled:
                gc.enable()
    return folder_bytes(out)


def test_output_does_not_depend_on_when_the_collector_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Object addresses follow allocation and collection: nothing written may follow them.

    With the collector off, garbage keeps its memory and later objects land
    elsewhere; collecting after every allocation packs them tight. A set or a
    sort over objects that hash by identity, a cache keyed by ``id()`` that
    outlives its key, or a finalizer that draws or writes would show here. It
    is also the runner's hold (:func:`sim.runner.gc.hold_collections`) held to
    the same bytes as collecting all along.
    """
    held = _run_with_collector(tmp_path / "held", "held", monkeypatch)
    for pace in ("as is", "off", "eager"):
        other = _run_with_collector(tmp_path / pace.replace(" ", "-"), pace, monkeypatch)
        for name, data in held.items():
            assert other[name] == data, f"{name} differs with the collector {pace}"


def test_the_hold_puts_the_collector_back_as_it_was(tmp_path: Path) -> None:
    scenario = load_scenario(TINY).with_overrides(days=1)
    assert gc.isenabled()
    Run(scenario, tmp_path / "on").execute()
    assert gc.isenabled()
    gc.disable()
    try:
        Run(scenario, tmp_path / "off").execute()
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()


def test_a_failed_stitch_puts_the_collector_back_without_collecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure in absorb or finalize: the traceback still holds the graph, so the
    collector is turned back on at once instead of walking everything first."""
    scenario = load_scenario(TINY).with_overrides(days=1)
    failed: list[bool] = []
    collections: list[int] = []  # collections after the stitch failed
    collect = gc.collect
    monkeypatch.setattr(
        sim.runner.gc.gc, "collect", lambda *a: collections.append(1) if failed else collect()
    )

    def fail(self: Run, shards: object) -> None:
        failed.append(True)
        raise RuntimeError("finalize broke")

    monkeypatch.setattr(Run, "_stitch", fail)
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="finalize broke"):
        Run(scenario, tmp_path / "run").execute()
    assert gc.isenabled()
    assert collections == []


def test_the_tail_writes_the_same_bytes_without_its_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two shards: the runner holds the collector while its graph lives, the merge process
    for its whole life; collecting all along in both writes the same run folder."""
    scenario = load_scenario(TINY).with_overrides(days=2)
    Run(scenario, tmp_path / "held", workers=2).execute()
    assert gc.isenabled()
    monkeypatch.setattr(sim.runner.run, "hold_collections", gc.isenabled)
    monkeypatch.setattr(sim.runner.merge, "hold_collections", gc.isenabled)  # forked with it
    monkeypatch.setattr(sim.runner.workers, "hold_collections", gc.isenabled)
    Run(scenario, tmp_path / "collected", workers=2).execute()
    held, collected = folder_bytes(tmp_path / "held"), folder_bytes(tmp_path / "collected")
    assert held.keys() == collected.keys() and "profiles.jsonl" in held
    for name, data in held.items():
        assert collected[name] == data, f"{name} differs with the tail's collector"
