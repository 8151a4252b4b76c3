"""What the closed messaging loop costs: the same run with and without its campaigns.

Both runs simulate the same people (same seed); one also routes every event
through the campaign engine, ticks it every simulated minute and lets people
react. Rounds alternate; the median of the paired ratios is reported.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import Result
from sim.runner import Run
from sim.world.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 5  # paired runs of ~2 s each swing by +-10% on a shared machine: take the median of five


def timed(scenario: Scenario, out: Path) -> float:
    started = time.perf_counter()
    Run(scenario, out).execute()
    return time.perf_counter() - started


def run() -> list[Result]:
    with_campaigns = load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(
        persons=300, days=3
    )
    without = dataclasses.replace(with_campaigns, campaigns=[])
    ratios, plain = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(ROUNDS):
            base = timed(without, Path(tmp) / f"plain-{k}")
            loop = timed(with_campaigns, Path(tmp) / f"loop-{k}")
            plain.append(base)
            ratios.append(loop / base - 1.0)
    overhead = statistics.median(ratios)
    return [
        Result("run without campaigns (300 persons x 3 days)", statistics.median(plain), "s"),
        Result(
            "messaging overhead on the same run",
            overhead * 100,
            "%",
            target=30.0,
            higher_is_better=False,
        ),
    ]
