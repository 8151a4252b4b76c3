"""``hopsim compare`` on a journey's experiment step: every path on the same population."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sim.commands.compare import compare, experiments, force_path
from sim.trace.reader import read_optional_jsonl
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
    """Each arm lives its own path on one population: the journey's push and next-morning
    e-mail, the one-message campaign's single message per run, the control's nothing."""
    scenario = load_scenario(CART).with_overrides(persons=600, days=3)
    result = compare(scenario, [e for e in experiments(scenario) if e[0] == "cart.arm"],
                     tmp_path, 1, 1)  # fmt: skip
    arms = result["campaigns"]["cart.arm"]["variants"]
    assert set(arms) == {"journey", "one-message", "control"}
    assert arms["control"]["sent"] == 0
    assert arms["journey"]["n"] > 0 and arms["one-message"]["n"] > 0
    steps = {arm: sent_by_step(tmp_path / f"{arm}-r0" / "messages.jsonl") for arm in arms}
    assert steps["journey"]["push"] > 0 and steps["journey"]["email"] > 0
    assert steps["journey"]["push"] <= arms["journey"]["n"]  # one push per run reaching it
    assert set(steps["one-message"]) == {"single"} and steps["control"] == Counter()
    assert 0 < arms["one-message"]["sent"] <= arms["one-message"]["n"]  # at most one per run


def sent_by_step(messages: Path) -> Counter[str]:
    """The cart journey's sent messages in one arm's run folder, by message step."""
    rows = read_optional_jsonl(messages)
    return Counter(
        r["step"] for r in rows if r["decision"] == "sent" and r.get("journey") == "cart"
    )
