"""What a journey costs over the one-message campaign it replaces, side by side.

The same people (the cart-journey scenario's seed and households) run twice:
once with the abandoned-cart campaign of ``abandoned-cart.toml`` (one message
an hour after ``Product Added``), once with the cross-device cart journey of
``cart-journey.toml`` (wait, experiment, push, wait until morning, split,
e-mail, wait for a workout, split, watch glance). A third run puts the
journeys and house rules of ``programme-journey.toml`` on the same people
(segments with time windows, entries on segment and trait changes, a paced
broadcast, event templates, rolling programme caps). Rounds alternate; the
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


def trio() -> tuple[Scenario, Scenario, Scenario]:
    """(one-message campaign, cart journey, programme journeys) on the same people (the
    cart-journey scenario's 1,000 over 3 days)."""
    journey = load_scenario(ROOT / "scenarios" / "cart-journey.toml")
    cart = load_scenario(ROOT / "scenarios" / "abandoned-cart.toml").campaigns[:1]
    house = load_scenario(ROOT / "scenarios" / "programme-journey.toml")
    programme = dataclasses.replace(journey, journeys=house.journeys, programme=house.programme)
    return dataclasses.replace(journey, journeys=[], campaigns=cart), journey, programme


def run() -> list[Result]:
    campaign, journey, programme = trio()
    ratios, house_ratios, single, walked, housed = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(ROUNDS):
            base = timed(campaign, Path(tmp) / f"campaign-{k}")
            steps = timed(journey, Path(tmp) / f"journey-{k}")
            rules = timed(programme, Path(tmp) / f"programme-{k}")
            single.append(base)
            walked.append(steps)
            housed.append(rules)
            ratios.append(steps / base - 1.0)
            house_ratios.append(rules / base - 1.0)
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
        Result("run with the programme journeys instead", statistics.median(housed), "s"),
        Result(
            "programme journeys overhead on the same run",
            statistics.median(house_ratios) * 100,
            "%",
            target=20.0,
            higher_is_better=False,
        ),
    ]
