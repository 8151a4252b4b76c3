"""``hopsim compare`` on a journey's experiment step: every path on the same population."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.commands.compare import compare, experiments, force_path
from sim.world.scenario import load_scenario

CART = Path(__file__).resolve().parents[1] / "scenarios" / "cart-journey.toml"


def test_experiment_steps_are_comparable() -> None:
    scenario = load_scenario(CART)
    found = experiments(scenario)
    assert ("cart.arm", [("journey", False), ("one-message", False), ("control", True)]) in found
    forced = force_path(scenario.journeys, "cart.arm", "one-message")
    assert forced is not None
    (arm,) = [s for s in forced[0]["steps"] if s["id"] == "arm"]
    assert [p["share"] for p in arm["paths"]] == [0, 100, 0]
    assert scenario.journeys[0]["steps"][1]["paths"][0]["share"] == 45  # the original untouched
    assert force_path(scenario.journeys, "cart.nothing", "journey") is None


@pytest.mark.slow
def test_compare_runs_every_path(tmp_path: Path) -> None:
    # four days: the journey's e-mail waits for the next morning, so at three days late entrants
    # lose it and the two arms' sends come within a few messages of each other (main: 28 vs 26)
    scenario = load_scenario(CART).with_overrides(persons=600, days=4)
    result = compare(scenario, [e for e in experiments(scenario) if e[0] == "cart.arm"],
                     tmp_path, 1, 1)  # fmt: skip
    arms = result["campaigns"]["cart.arm"]["variants"]
    assert set(arms) == {"journey", "one-message", "control"}
    assert arms["control"]["sent"] == 0
    assert arms["journey"]["n"] > 0 and arms["one-message"]["n"] > 0
    assert arms["journey"]["sent"] >= arms["one-message"]["sent"] > 0
