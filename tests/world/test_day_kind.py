"""One weekend rule: the day a person lives as the weekend is the day the world calls free."""

from __future__ import annotations

from datetime import timedelta
from itertools import product
from pathlib import Path

from sim.world.life import free_day
from sim.world.routine import kind_of_day, lived, plan_day
from sim.world.scenario import load_scenario
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]
DAYS = 120


def test_free_day_is_the_day_plan_day_lived_as_the_weekend_routine() -> None:
    """Susan travels about 3.5 times a month: weekends on a trip are not free days."""
    scenario = load_scenario(ROOT / "scenarios" / "day-in-the-life.toml")
    world = World(scenario.with_overrides(days=DAYS))
    susan = next(p for p in world.people() if p.name == "Susan")
    start = world.scenario.start
    night = world.brand.use.work_night_sleep
    kinds = ("weekday", "weekend", "travel")
    weekend = {
        id(b) for y, t in product(kinds, kinds) for b in lived(susan, y, "weekend", t, night)
    }
    seen = set()
    foreseen = ""
    for day in range(DAYS):
        planned = {
            id(b)
            for _, _, b in plan_day(start, susan, day, susan.rng, world.brand.use.work_night_sleep)
        }
        kind = kind_of_day(start, susan, day)
        assert day == 0 or kind == foreseen, "the day is the kind last night's bedtime was set for"
        foreseen = kind_of_day(start, susan, day + 1)
        saturday_or_sunday = (start + timedelta(days=day)).weekday() >= 5
        assert free_day(world, susan, day) == (planned <= weekend) == (kind == "weekend")
        assert (kind == "weekend") == (saturday_or_sunday and kind != "travel")
        seen.add((kind, saturday_or_sunday))
    assert seen == {
        ("weekday", False),
        ("weekend", True),
        ("travel", False),
        ("travel", True),
    }, "every kind of day, a weekend on a trip among them"
