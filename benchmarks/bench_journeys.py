"""What a journey costs over the one-message campaign it replaces, side by side.

The same people (the cart-journey scenario's seed and households) run twice:
once with the abandoned-cart campaign of ``abandoned-cart.toml`` (one message
an hour after ``Product Added``), once with the cross-device cart journey of
``cart-journey.toml`` (wait, experiment, push, wait until morning, split,
e-mail, wait for a workout, split, watch glance). Rounds alternate; the
median of the paired ratios is reported (target: at most 20% more wall time).
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
ROUNDS = 5  # paired runs swing by +-10% on a shared machine: the median of five


def timed(scenario: Scenario, out: Path) -> float:
    started = time.perf_counter()
    Run(scenario, out).execute()
    return time.perf_counter() - started


def pair() -> tuple[Scenario, Scenario]:
    """(one-message campaign, journey) on the same people (the scenario's 1,000 over 3 days)."""
    journey = load_scenario(ROOT / "scenarios" / "cart-journey.toml")
    cart = load_scenario(ROOT / "scenarios" / "abandoned-cart.toml").campaigns[:1]
    return dataclasses.replace(journey, journeys=[], campaigns=cart), journey


def run() -> list[Result]:
    campaign, journey = pair()
    ratios, single, walked = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(ROUNDS):
            base = timed(campaign, Path(tmp) / f"campaign-{k}")
            steps = timed(journey, Path(tmp) / f"journey-{k}")
            single.append(base)
            walked.append(steps)
            ratios.append(steps / base - 1.0)
    return [
        Result("run with the one-message cart campaign", statistics.median(single), "s"),
        Result("run with the cart journey instead", statistics.median(walked), "s"),
        Result(
            "journey overhead on the same run",
            statistics.median(ratios) * 100,
            "%",
            target=20.0,
            higher_is_better=False,
        ),
    ]
