"""The shipped seed journeys run end to end at small size: counts add up, any worker count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sim.commands.serve import load_engine_parts
from sim.runner import Run
from sim.trace.reader import read_jsonl
from sim.world.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SEEDS = (
    "cart-journey",
    "storm-journey",
    "onboarding-journey",
    "path-journey",
    "programme-journey",
)


def simulate(name: str, out: Path, workers: int = 1, persons: int = 400) -> dict[str, Any]:
    scenario = load_scenario(SCENARIOS / f"{name}.toml").with_overrides(persons=persons)
    summary: dict[str, Any] = Run(scenario, out, workers).execute()
    return summary


@pytest.mark.slow
@pytest.mark.parametrize("name", SEEDS)
def test_seed_journey_counts_add_up(name: str, tmp_path: Path) -> None:
    summary = simulate(name, tmp_path)
    programs = summary["journey_programs"]
    assert "journeys" in summary  # the touchpoint paths keep their key
    for block in programs.values():
        assert block["entered"] > 0
        assert block["converted"] <= block["entered"]
        assert 0 <= block["walked_twice"] <= block["entered"]  # truth: one person, two profiles
        assert sum(block["time_to_conversion"].values()) == block["converted"]
        for sid, step in block["steps"].items():
            out = sum(step["advanced"].values()) + sum(step["exited"].values())
            assert out <= step["entered"], sid  # the rest are still inside at the end
            if step["kind"] == "message":
                assert step["sent"] + sum(step["suppressed"].values()) <= step["entered"]
    rows = list(read_jsonl(tmp_path / "journey_steps.jsonl"))
    assert sum(1 for r in rows if r["event"] == "entered") == sum(
        b["entered"] for b in programs.values()
    )
    declared = {(j, s) for j, b in programs.items() for s in b["steps"]}
    for row in read_jsonl(tmp_path / "messages.jsonl"):
        if "journey" in row:
            assert (row["journey"], row["step"]) in declared
            assert row["campaign"] == f"{row['journey']}/{row['step']}"


@pytest.mark.slow
def test_journeys_same_bytes_for_any_worker_count(tmp_path: Path) -> None:
    one = simulate("cart-journey", tmp_path / "w1", 1, 300)
    two = simulate("cart-journey", tmp_path / "w2", 2, 300)
    for name in ("journey_steps.jsonl", "messages.jsonl"):
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes()
    assert json.dumps(one["journey_programs"], sort_keys=True) == json.dumps(
        two["journey_programs"], sort_keys=True
    )


@pytest.mark.slow
def test_programme_journeys_same_bytes_for_any_worker_count(tmp_path: Path) -> None:
    """Segments, change entries, event templates, programme caps and a paced broadcast whose
    wave the two workers trade: the same decisions and moves as one worker."""
    one = simulate("programme-journey", tmp_path / "w1", 1, 400)
    two = simulate("programme-journey", tmp_path / "w2", 2, 400)
    for name in ("journey_steps.jsonl", "messages.jsonl"):
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes()
    programs = one["journey_programs"]
    assert programs == two["journey_programs"]
    assert all(programs[j]["entered"] > 0 for j in ("storm", "cart", "push-welcome", "lapsed"))
    rows = [r for r in read_jsonl(tmp_path / "w1" / "messages.jsonl") if r.get("journey")]
    storm = [r["at"][:16] for r in rows if r["step"] == "alert"]
    assert max(storm.count(m) for m in storm) <= 5  # rate_limit.per_minute
    cart = [
        r["content"]["text"] for r in rows if r["journey"] == "cart" and r["decision"] == "sent"
    ]
    assert cart and all(" is still in your cart" in t and "{{" not in t for t in cart)


def test_serve_hosts_the_journeys() -> None:
    _, messenger = load_engine_parts(SCENARIOS / "cart-journey.toml")
    assert messenger is not None and messenger.walker is not None
    assert "cart" in messenger.walker.journeys
    assert "cart/push" in messenger.campaigns
    _, house = load_engine_parts(SCENARIOS / "programme-journey.toml")
    assert house is not None and house.walker is not None
    assert house.pool is None  # one process holds the whole paced wave
    assert house.walker.journeys["storm"].per_minute == 5
    assert set(house.programme.segments) == {"northeast", "browsing", "active"}
