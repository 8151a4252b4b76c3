"""What the journey metrics (docs/metrics.md) cost a run: the default population, with and without.

The same scenario runs twice per round, once as ``hopsim run`` does (the
metrics read the finished trace and write ``journey_metrics``) and once with
that step left out; rounds alternate so both see the same machine, and the
ratio is reported. Because separate runs on a shared machine differ by more
than the metrics cost, the target (the issue's budget: at most 10% more) is
held by the same-run ratio: the run's wall time over that time minus its
own metrics step, clocked inside the very run.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import Result
from sim.runner.run import Run
from sim.world.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 2


class TimedRun(Run):
    """A normal run that also clocks its journey-metrics step."""

    metrics_seconds = 0.0

    def journey_metrics(self) -> dict[str, Any]:
        started = time.perf_counter()
        block = super().journey_metrics()
        self.metrics_seconds = time.perf_counter() - started
        return block


class RunWithoutMetrics(Run):
    """A run that skips the journey metrics and nothing else."""

    def journey_metrics(self) -> dict[str, Any]:
        return {}


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
            note="one worker; the metrics read the finished trace once",
        ),
    ]
