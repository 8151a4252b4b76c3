"""What the journey metrics (docs/metrics.md) cost a run: the default population, with and without.

The same scenario runs twice per round, once as ``hopsim run`` does (each
shard tallies its own events as it finishes, the runner adds the tallies up
into ``journey_metrics``) and once with both steps left out; rounds
alternate so both see the same machine, and the ratio is reported. Because
separate runs on a shared machine differ by more than the metrics cost, the
target (the issue's budget: at most 10% more) is held by the same-run ratio:
the run's wall time over that time minus its own metrics steps, clocked
inside the very run (one worker: the shard's tally runs in this process).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sim.runner.shard
from benchmarks import Result
from sim.analysis.journey_metrics import JourneyTally, trace_tally
from sim.runner.run import Run
from sim.runner.shard import ShardResult
from sim.world.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 2


class TimedRun(Run):
    """A normal run that also clocks its journey-metrics steps (the shards' tallies, the sum)."""

    metrics_seconds = 0.0

    def journey_metrics(
        self, shards: list[ShardResult], profiles: list[dict[str, Any]]
    ) -> dict[str, Any]:
        started = time.perf_counter()
        block = super().journey_metrics(shards, profiles)
        self.metrics_seconds += time.perf_counter() - started
        return block

    def execute(self, progress: Any = None) -> dict[str, Any]:
        def clocked(*args: Any) -> JourneyTally:
            started = time.perf_counter()
            tally = trace_tally(*args)
            self.metrics_seconds += time.perf_counter() - started
            return tally

        with shard_tally(clocked):
            return super().execute(progress)


class RunWithoutMetrics(Run):
    """A run that skips the journey metrics and nothing else."""

    def journey_metrics(
        self, shards: list[ShardResult], profiles: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {}

    def execute(self, progress: Any = None) -> dict[str, Any]:
        with shard_tally(lambda *args: JourneyTally()):
            return super().execute(progress)


@contextmanager
def shard_tally(tally: Callable[..., JourneyTally]) -> Iterator[None]:
    """The shards' tally step replaced by ``tally`` (one worker: the shard is in this process)."""
    original = getattr(sim.runner.shard, "trace_tally")  # noqa: B009 (the name the shard calls)
    setattr(sim.runner.shard, "trace_tally", tally)  # noqa: B010
    try:
        yield
    finally:
        setattr(sim.runner.shard, "trace_tally", original)  # noqa: B010


def timed(run: Run) -> float:
    started = time.perf_counter()
    run.execute()
    return time.perf_counter() - started


def run() -> list[Result]:
    scenario = load_scenario(ROOT / "scenarios" / "population.toml")
    with_metrics, without, ratios, shares = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(ROUNDS):
            bare = timed(RunWithoutMetrics(scenario, Path(tmp) / f"without-{k}"))
            measured = TimedRun(scenario, Path(tmp) / f"with-{k}")
            full = timed(measured)
            without.append(bare)
            with_metrics.append(full)
            ratios.append(full / bare)
            shares.append(full / (full - measured.metrics_seconds))
    return [
        Result("run wall, population, with journey metrics", statistics.median(with_metrics), "s"),
        Result("run wall, population, without them", statistics.median(without), "s"),
        Result(
            f"with / without, separate runs ({scenario.persons} persons x {scenario.days} days)",
            statistics.median(ratios),
            "x",
            note="alternating runs: noisy on a shared machine",
        ),
        Result(
            "run / (run - metrics step), same run",
            statistics.median(shares),
            "x",
            target=1.10,
            higher_is_better=False,
            note="one worker; the shard tallies its own events, the runner adds up",
        ),
    ]
