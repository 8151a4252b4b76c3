"""Restless nights: who gets up in the night, when, and what they do while up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sim.errors import ConfigError
from sim.world import life
from sim.world.brand import parse_device_use
from sim.world.people import Person
from sim.world.persona import Block
from sim.world.restless import BED, UP, restless_night
from sim.world.routine import Plan, local_midnight
from sim.world.scenario import load_scenario
from sim.world.schema import load_toml
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]
DEVICE_USE = ROOT / "data" / "device_use.toml"


def world_with(persons: int = 80, days: int = 3, **restless: Any) -> World:
    """A slice of the default population whose ``[restless]`` figures are replaced."""
    scenario = load_scenario(ROOT / "scenarios" / "population.toml")
    world = World(scenario.with_overrides(persons=persons, days=days, seed=11))
    use = world.brand.use
    assert use.restless is not None
    world.brand.use = replace(use, restless=replace(use.restless, **restless))
    return world


def spells(plan: Plan) -> list[tuple[float, float]]:
    """The spells up in a plan: the block restless_night cuts in (one object per data)."""
    return [(start, end) for start, end, block in plan if block.start < 0]


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Person, int, Plan]]]:
    """Every (person, day, plan) the lives walk, as restless_night made it."""
    seen: list[tuple[Person, int, Plan]] = []
    real = life.asleep_at_3

    def spy(world: World, person: Person, plan: Plan, day: int) -> None:
        seen.append((person, day, plan))
        real(world, person, plan, day)

    monkeypatch.setattr(life, "asleep_at_3", spy)
    yield seen


def test_a_restless_person_gets_up_in_the_night_and_is_up_at_3am_when_the_spell_covers_it(
    planned: list[tuple[Person, int, Plan]],
) -> None:
    """Everyone restless, every night, always up: one spell a night, inside the sleep at home."""
    world = world_with(share=1.0, nights=1.0, up_share=1.0)
    used: list[tuple[str, str, float]] = []
    world.device_used.add_listener(
        lambda person, device, context, at, **_: used.append((person.id, context, at))
    )
    life.play(world)
    restless = world.brand.use.restless
    assert restless is not None
    adults = [(p, day, plan) for p, day, plan in planned if p.age >= restless.min_age]
    at_home = [(p, d, plan) for p, d, plan in adults if any(b.context == BED for _, _, b in plan)]
    with_spell = [(p, d, plan) for p, d, plan in at_home if spells(plan)]
    assert len(with_spell) > 0.9 * len(at_home), "nearly every night at home has its spell"
    for _, _, plan in with_spell:
        assert len(spells(plan)) == 1, "one spell a night"
        index = next(i for i, (_, _, b) in enumerate(plan) if b.start < 0)
        assert plan[index - 1][2].context == BED and plan[index + 1][2].context == BED
        assert plan[index - 1][1] == plan[index][0] and plan[index][1] == plan[index + 1][0]
    minors = [plan for p, _, plan in planned if p.age < restless.min_age]
    assert minors and not any(spells(plan) for plan in minors), "adults only (Ohayon: 18+)"
    # the 3 a.m. snapshot: exactly the US adults whose spell covers 03:00 are up, or at work
    up_at_3 = 0
    for person, day, plan in planned:
        at = local_midnight(world.scenario.start, person, day) + 3 * 3600.0
        if person.country != "US" or person.age < 15 or not 0.0 <= at < world.end:
            continue
        up_at_3 += any(start <= at < end for start, end in spells(plan))
    outcomes = world.outcomes.asleep_at_3
    assert up_at_3 > 0, "some spells cover 3 a.m."
    assert outcomes["seen"] - outcomes["asleep"] >= up_at_3
    # what they do while up: the living room's screens, picked up during the spells
    windows = {(p.id, s, e) for p, _, plan in with_spell for s, e in spells(plan)}
    by_person: dict[str, list[tuple[float, float]]] = {}
    for pid, s, e in windows:
        by_person.setdefault(pid, []).append((s, e))
    picked = {
        (pid, s, e)
        for pid, context, at in used
        if context == UP
        for s, e in by_person.get(pid, [])
        if s <= at < e
    }
    assert len(picked) > 0.5 * len(windows), "a screen is picked up in most spells"


def test_nobody_gets_up_when_nobody_is_restless(planned: list[tuple[Person, int, Plan]]) -> None:
    world = world_with(persons=40, days=2, share=0.0)
    life.play(world)
    assert planned and not any(spells(plan) for _, _, plan in planned)


def test_a_restless_person_gets_up_on_about_the_share_of_nights_the_data_gives() -> None:
    """Restless on 3 nights in 7 (Ohayon), up on 64% of them (CBS/SSRS): 0.43 x 0.64 of nights."""
    world = world_with(persons=300, days=1, share=1.0)
    restless = world.brand.use.restless
    assert restless is not None
    nights = ups = 0
    for person in world.people():
        if person.age < restless.min_age or person.named:
            continue
        for day in range(12):
            bed = 3600.0 * 24 * day
            plan: Plan = [(bed, bed + 8 * 3600.0, home_sleep_block())]
            nights += 1
            ups += bool(spells(restless_night(world, person, plan, day)))
    expected = restless.nights * restless.up_share
    assert nights > 2000
    assert abs(ups / nights - expected) < 0.03, f"{ups / nights:.3f} against {expected:.3f}"


def home_sleep_block() -> Block:
    return Block(context=BED, start=0, end=480, jitter=0, sessions_per_hour=0.0, use={})


def test_named_people_keep_the_nights_their_seed_describes() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "day-in-the-life.toml")
    world = World(scenario)
    use = world.brand.use
    assert use.restless is not None
    world.brand.use = replace(
        use, restless=replace(use.restless, share=1.0, nights=1.0, up_share=1.0)
    )
    plan: Plan = [(0.0, 8 * 3600.0, home_sleep_block())]
    for person in world.people():
        assert person.named
        assert restless_night(world, person, plan, 0) == plan


def test_nobody_gets_up_into_the_home_living_room_on_a_trip() -> None:
    """Routines sleep in home.sleep on a trip too: a spell would put the traveller on the
    home network and before the household's TV, so trip nights have none."""
    world = world_with(persons=60, days=1, share=1.0, nights=1.0, up_share=1.0)
    restless = world.brand.use.restless
    assert restless is not None
    plan: Plan = [(0.0, 8 * 3600.0, home_sleep_block())]
    adults = [p for p in world.people() if p.age >= restless.min_age and not p.named]
    assert adults
    for person in adults:
        person.travelling_until = 2
        assert restless_night(world, person, plan, 2) == plan, "a trip night"
        assert spells(restless_night(world, person, plan, 3)), "the first night home again"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('up_share = { value = 1.5, remark = "x" }', "restless.up_share.value"),
        ('nights = { value = -0.1, remark = "x" }', "restless.nights.value"),
        ('use = { tv = 0.5, fridge = 0.5, remark = "x" }', "restless.use.fridge"),
        ('use = { tv = 0.0, phone = 0.0, remark = "x" }', "restless.use"),
        ('use = { remark = "x" }', "restless.use"),
        ('min_age = { value = 17.6, remark = "x" }', "restless.min_age.value"),
        ('median_minutes = { value = 0.0, remark = "x" }', "restless.median_minutes"),
    ],
)
def test_bad_restless_data_fails_naming_file_and_key(
    tmp_path: Path, line: str, expected: str
) -> None:
    key = line.split(" = ", 1)[0]
    text = DEVICE_USE.read_text()
    old = next(x for x in text.splitlines() if x.startswith(f"{key} = "))
    path = tmp_path / "device_use.toml"
    path.write_text(text.replace(old, line))
    with pytest.raises(ConfigError) as error:
        parse_device_use(load_toml(path), path)
    assert "device_use.toml" in str(error.value) and expected in str(error.value)


def test_a_restless_number_without_a_source_fails(tmp_path: Path) -> None:
    text = DEVICE_USE.read_text()
    line = next(x for x in text.splitlines() if x.startswith("per_hour = "))
    path = tmp_path / "device_use.toml"
    path.write_text(text.replace(line, "per_hour = { value = 2.0 }"))
    with pytest.raises(ConfigError) as error:
        parse_device_use(load_toml(path), path)
    assert "restless.per_hour" in str(error.value) and "source" in str(error.value)
