"""The seed personas behave as the articles describe them (one simulated week)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sim.trace.clock import parse_iso
from sim.world.life import play
from sim.world.people import Person
from sim.world.scenario import load_scenario
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]
Seen = list[tuple[dict[str, Any], str, str]]
Used = list[tuple[str, str, str]]  # (person name, device type, context) for every pick-up


@pytest.fixture(scope="module")
def week() -> tuple[World, Seen]:
    return live(7)


@pytest.fixture(scope="module")
def month() -> tuple[World, Seen]:
    """Four weeks: Susan's 3-4 trips a month are sure to show up at least once."""
    return live(28)


@pytest.fixture(scope="module")
def trip() -> tuple[World, Seen]:
    """A week that starts with Susan on a three-day trip (trips are otherwise drawn at random)."""
    return live(7, susan_away_until=2)


def live(days: int, susan_away_until: int = -1) -> tuple[World, Seen]:
    scenario = load_scenario(ROOT / "scenarios" / "day-in-the-life.toml")
    world = World(scenario.with_overrides(days=days))
    next(p for p in world.people() if p.name == "Susan").travelling_until = susan_away_until
    seen: Seen = []

    def record(event: dict[str, Any], person: Person, context: str, **_: Any) -> None:
        seen.append((event, person.name, context))

    world.event_emitted.add_listener(record)
    play(world)
    return world, seen


def uses(days: int, susan_away_until: int = -1) -> Used:
    """Every device pick-up of the week (device use, brand sessions or not)."""
    scenario = load_scenario(ROOT / "scenarios" / "day-in-the-life.toml")
    world = World(scenario.with_overrides(days=days))
    next(p for p in world.people() if p.name == "Susan").travelling_until = susan_away_until
    used: Used = []

    def record(person: Person, device: Any, context: str, **_: Any) -> None:
        used.append((person.name, device.type, context))

    world.device_used.add_listener(record)
    play(world)
    return used


def local_hour(event: dict[str, Any]) -> int:
    moment: datetime = parse_iso(event["timestamp"]).astimezone(
        ZoneInfo(event["context"]["timezone"])
    )
    return moment.hour


def of(seen: Seen, name: str, kind: str) -> list[tuple[dict[str, Any], str]]:
    return [
        (e, ctx) for e, who, ctx in seen if who == name and e["context"]["device"]["type"] == kind
    ]


def test_mason_talks_to_the_speaker_in_the_kitchen_mostly_in_the_evening(
    month: tuple[World, Seen],
) -> None:
    world, seen = month
    speaker = of(seen, "Mason", "speaker")
    assert speaker
    assert all(ctx.startswith("home.") for _, ctx in speaker)
    kitchen = [e for e, ctx in speaker if ctx == "home.kitchen"]
    assert len(kitchen) / len(speaker) > 0.8
    evening = [e for e in kitchen if 17 <= local_hour(e) <= 22]
    assert len(evening) / len(kitchen) > 0.5
    mason = next(p for p in world.people() if p.name == "Mason")
    home_ip = world.household_of(mason).home_ip
    assert {e["context"]["ip"] for e, _ in speaker} == {home_ip}


def test_kaylee_works_out_with_her_watch_at_the_gym(week: tuple[World, Seen]) -> None:
    used = uses(7)
    gym = [device for who, device, ctx in used if who == "Kaylee" and ctx == "gym"]
    assert gym.count("watch") >= 3 and gym.count("watch") > gym.count("phone")
    _, seen = week
    workouts = [
        ctx for e, ctx in of(seen, "Kaylee", "watch") if e.get("event") == "Workout Started"
    ]
    assert set(workouts) <= {"gym"}, "a workout the brand's watch app sees happens at the gym"
    driving = {ctx for who, device, ctx in used if who == "Kaylee" and device == "car"}
    assert driving and driving <= {"car.driving", "car.parked"}


def test_susan_travels_with_a_phone_and_the_laptop_off_her_home_network(
    trip: tuple[World, Seen],
) -> None:
    world, seen = trip
    susan = next(p for p in world.people() if p.name == "Susan")
    assert len(susan.devices_of("phone")) == 2
    away = [(e, ctx) for e, who, ctx in seen if who == "Susan" and ctx.startswith("travel.")]
    used = uses(7, susan_away_until=2)
    kinds = Counter(d for who, d, ctx in used if who == "Susan" and ctx.startswith("travel."))
    assert kinds["laptop"] > 0 and kinds["phone"] > 0, "Susan works from travel contexts"
    home_ip = world.household_of(susan).home_ip
    assert all(e["context"]["ip"] != home_ip for e, _ in away)
