"""Shift work in the default population: every working seat works nights and evenings at BLS's shares."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sim.world.life import asleep_at_3
from sim.world.routine import plan_day
from sim.world.scenario import load_scenario
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]
WORKING = ("commuter", "parent", "night_worker", "evening_worker")  # Mason keeps his seed's hours
NIGHT = 0.032 + 0.025 / 3  # BLS May 2004: night shifts, and a third of the rotating shifts
EVENING = 0.047 + 0.025 / 3  # evening shifts, and a third of the rotating shifts


def test_working_seats_draw_night_and_evening_shifts_at_the_bls_shares() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "population.toml")
    world = World(scenario.with_overrides(persons=6000, days=1, seed=5))
    kinds = Counter(p.persona.name for p in world.people() if p.persona.name in WORKING)
    workers = sum(kinds.values())
    assert workers > 2500
    assert abs(kinds["night_worker"] / workers - NIGHT) < 0.012, kinds
    assert abs(kinds["evening_worker"] / workers - EVENING) < 0.014, kinds
    parents = {p.household_id for p in world.people() if p.persona.name == "teen"}
    on_shift_in_families = [
        p
        for p in world.people()
        if p.household_id in parents and p.persona.name in ("night_worker", "evening_worker")
    ]
    assert on_shift_in_families, "parents work shifts too, not only the commuter seats"


def test_a_night_worker_drawn_into_a_family_is_at_work_at_3am_on_a_work_night() -> None:
    """The 3 a.m. snapshot of a Tuesday (a run starting on a Monday) finds them at work."""
    scenario = load_scenario(ROOT / "scenarios" / "population.toml")
    world = World(scenario.with_overrides(persons=3000, days=3, seed=5))
    teens = {p.household_id for p in world.people() if p.persona.name == "teen"}
    night = [
        p
        for p in world.people()
        if p.household_id in teens and p.persona.name == "night_worker" and p.country == "US"
    ]
    assert night
    counted = world.outcomes.asleep_at_3
    for person in night:
        plan = plan_day(
            world.scenario.start, person, 1, person.rng, world.brand.use.work_night_sleep
        )
        if any(block.context.startswith("travel") for _, _, block in plan):
            continue  # away on a trip
        seen, asleep = counted["seen"], counted["asleep"]
        asleep_at_3(world, person, plan, 1)
        assert counted["seen"] == seen + 1, "a night within the run"
        assert counted["asleep"] == asleep, f"{person.name} is on the night shift"
