"""The seed personas behave as the articles describe them (one simulated week)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sim.trace.events import parse_iso
from sim.world.people import Person
from sim.world.scenario import load_scenario
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]
Seen = list[tuple[dict[str, Any], str, str]]


@pytest.fixture(scope="module")
def week() -> tuple[World, Seen]:
    scenario = load_scenario(ROOT / "scenarios" / "day-in-the-life.toml")
    world = World(scenario)
    seen: Seen = []

    def record(event: dict[str, Any], person: Person, **_: Any) -> None:
        seen.append((event, person.name, person.context))

    world.event_emitted.add_listener(record)
    world.run()
    return world, seen


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
    week: tuple[World, Seen],
) -> None:
    world, seen = week
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
    _, seen = week
    watch = of(seen, "Kaylee", "watch")
    workouts = [ctx for e, ctx in watch if e.get("event") == "Workout Started"]
    assert len(workouts) >= 3
    assert set(workouts) == {"gym"}
    driving = {ctx for _, ctx in of(seen, "Kaylee", "car")}
    assert driving <= {"car.driving", "car.parked"}


def test_susan_travels_with_a_phone_and_the_laptop_off_her_home_network(
    week: tuple[World, Seen],
) -> None:
    world, seen = week
    susan = next(p for p in world.people() if p.name == "Susan")
    assert len(susan.devices_of("phone")) == 2
    away = [(e, ctx) for e, who, ctx in seen if who == "Susan" and ctx.startswith("travel.")]
    assert away, "Susan travels in a typical week"
    kinds = Counter(e["context"]["device"]["type"] for e, _ in away)
    assert kinds["laptop"] > 0 and kinds["phone"] > 0
    home_ip = world.household_of(susan).home_ip
    assert all(e["context"]["ip"] != home_ip for e, _ in away)
