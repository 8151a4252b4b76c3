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
from sim.world.places import CONTEXTS
from sim.world.scenario import load_scenario
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]
Seen = list[tuple[dict[str, Any], str, str]]


@pytest.fixture(scope="module")
def week() -> tuple[World, Seen]:
    return live(7)


@pytest.fixture(scope="module")
def month() -> tuple[World, Seen]:
    """Four weeks: Susan's 3-4 trips a month are sure to show up at least once."""
    return live(28)


@pytest.fixture(scope="module")
def months() -> list[tuple[World, Seen]]:
    """Eight four-week runs (seeds 2026-2033): one month of one person is one draw of her habits.

    Susan's split between the laptop and her phones moves by several points
    from one month to the next (her trips come and go), so the share her
    seed describes is judged over the eight months together.
    """
    return [live(28, seed=seed) for seed in range(2026, 2034)]


@pytest.fixture(scope="module")
def trip() -> tuple[World, Seen]:
    """A week that starts with Susan on a three-day trip (trips are otherwise drawn at random)."""
    return live(7, susan_away_until=2)


def live(days: int, susan_away_until: int = -1, seed: int | None = None) -> tuple[World, Seen]:
    scenario = load_scenario(ROOT / "scenarios" / "day-in-the-life.toml")
    world = World(scenario.with_overrides(days=days, seed=seed))
    next(p for p in world.people() if p.name == "Susan").travelling_until = susan_away_until
    seen: Seen = []

    def record(event: dict[str, Any], person: Person, context: str, **_: Any) -> None:
        seen.append((event, person.name, context))

    world.event_emitted.add_listener(record)
    play(world)
    return world, seen


def local_hour(event: dict[str, Any]) -> int:
    moment: datetime = parse_iso(event["timestamp"]).astimezone(
        ZoneInfo(event["context"]["timezone"])
    )
    return moment.hour


def by_context(seen: Seen, name: str, context: str) -> list[str]:
    """Device types of ``name``'s events in ``context``."""
    return [
        e["context"]["device"]["type"] for e, who, ctx in seen if who == name and ctx == context
    ]


def sessions(seen: Seen, name: str) -> list[tuple[dict[str, Any], str]]:
    """The first event of each of ``name``'s sessions: an app opened, or a site's home page."""
    return [
        (e, ctx)
        for e, who, ctx in seen
        if who == name
        and (e.get("event") == "Application Opened" or e.get("properties", {}).get("path") == "/")
    ]


def of(seen: Seen, name: str, kind: str) -> list[tuple[dict[str, Any], str]]:
    return [
        (e, ctx) for e, who, ctx in seen if who == name and e["context"]["device"]["type"] == kind
    ]


def test_mason_talks_to_the_speaker_in_the_kitchen_mostly_in_the_evening(
    months: list[tuple[World, Seen]],
) -> None:
    """Judged over eight months: a month holds a few dozen listening spells, and one month's
    evening share runs from about 0.47 to 0.82 (eight months together: about 0.63)."""
    kitchen: list[dict[str, Any]] = []
    spoken = 0
    for world, seen in months:
        speaker = of(seen, "Mason", "speaker")
        assert speaker
        assert all(ctx.startswith("home.") for _, ctx in speaker)
        spoken += len(speaker)
        kitchen += [e for e, ctx in speaker if ctx == "home.kitchen"]
        mason = next(p for p in world.people() if p.name == "Mason")
        home_ip = world.household_of(mason).home_ip
        assert {e["context"]["ip"] for e, _ in speaker} == {home_ip}
    assert len(kitchen) / spoken > 0.8
    evening = [e for e in kitchen if 17 <= local_hour(e) <= 22]
    assert len(evening) / len(kitchen) > 0.5


def test_kaylee_works_out_with_her_watch_at_the_gym(week: tuple[World, Seen]) -> None:
    _, seen = week
    watch = of(seen, "Kaylee", "watch")
    workouts = [ctx for e, ctx in watch if e.get("event") == "Workout Started"]
    assert len(workouts) >= 3
    assert set(workouts) == {"gym"}


def test_kaylee_drives_with_her_phone_on_the_car_screen(month: tuple[World, Seen]) -> None:
    """Seed 001: 'a fully integrated Bluetooth car system': CarPlay runs her phone's own app."""
    _, seen = month
    assert not of(seen, "Kaylee", "car")  # the car never speaks for itself
    trips = [(e, ctx) for e, ctx in of(seen, "Kaylee", "phone") if e.get("event") == "Trip Started"]
    assert len(trips) >= 15
    assert {ctx for _, ctx in trips} == {"car.driving"}


def test_kaylee_keeps_her_watch_for_the_gym_her_phone_for_social_and_silence_in_class(
    month: tuple[World, Seen],
) -> None:
    """Seed 001: Apple Watch for fitness, the phone mostly for social apps, no buzz in class."""
    _, seen = month
    kinds = {ctx: Counter(kind for kind in by_context(seen, "Kaylee", ctx)) for ctx in CONTEXTS}
    watch = of(seen, "Kaylee", "watch")
    assert sum(ctx == "gym" for _, ctx in watch) / len(watch) > 0.7
    social = kinds["social"]
    assert social["phone"] / sum(social.values()) > 0.85
    phone = [ctx for _, ctx in of(seen, "Kaylee", "phone")]
    assert Counter(phone).most_common(1)[0][0] in ("social", "home.bedroom")
    assert kinds["class"] and set(kinds["class"]) == {"laptop"}


def test_mason_asks_the_speaker_mostly_for_recipes_and_music_in_the_kitchen(
    month: tuple[World, Seen],
) -> None:
    """Seed 001: 'uses his Echo Dot to find recipes and play music while he is at home'."""
    _, seen = month
    asks = [
        (e, ctx) for e, ctx in of(seen, "Mason", "speaker") if e.get("event") == "Voice Command"
    ]
    assert len(asks) > 20
    intents = Counter(e["properties"]["intent"] for e, _ in asks)
    assert (intents["recipe"] + intents["music"]) / len(asks) > 0.7
    assert sum(ctx == "home.kitchen" for _, ctx in asks) / len(asks) > 0.8


def test_susan_lives_on_the_laptop_and_travels_with_her_personal_phone(
    months: list[tuple[World, Seen]],
) -> None:
    """Seed 001: relies most on her laptop; on the road, the personal phone and the laptop."""
    starts = []
    for world, seen in months:
        susan = next(p for p in world.people() if p.name == "Susan")
        label = {d.id: f"{d.type}:{d.spec.label}" for d in susan.devices}
        starts += [(label[e["context"]["device"]["id"]], c) for e, c in sessions(seen, "Susan")]
    used = Counter(device for device, _ in starts)
    assert used["laptop:macbook"] > used["phone:work"] + used["phone:personal"]
    road = Counter(device for device, ctx in starts if ctx.startswith("travel."))
    assert road["laptop:macbook"] > 0
    # the work phone holds 0.2 of her phone picks (more at a client's): most of the road's are personal
    assert road["phone:work"] / (road["phone:work"] + road["phone:personal"]) < 0.5


def test_susan_travels_with_a_phone_and_the_laptop_off_her_home_network(
    trip: tuple[World, Seen],
) -> None:
    world, seen = trip
    susan = next(p for p in world.people() if p.name == "Susan")
    assert len(susan.devices_of("phone")) == 2
    away = [(e, ctx) for e, who, ctx in seen if who == "Susan" and ctx.startswith("travel.")]
    assert away, "Susan works from travel contexts while away"
    kinds = Counter(e["context"]["device"]["type"] for e, _ in away)
    assert kinds["laptop"] > 0 and kinds["phone"] > 0
    home_ip = world.household_of(susan).home_ip
    assert all(e["context"]["ip"] != home_ip for e, _ in away)
