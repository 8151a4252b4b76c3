"""Speaker audio at home: requests start short spells, a stay in the living room may have audio on throughout."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sim.errors import ConfigError
from sim.world.brand import parse_device_use
from sim.world.life import play, settle, tally_audio
from sim.world.persona import Block
from sim.world.scenario import Scenario, load_scenario
from sim.world.schema import load_toml
from sim.world.world import World

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
DEVICE_USE = ROOT / "data" / "device_use.toml"


def tiny(**overrides: Any) -> Scenario:
    return load_scenario(FIXTURES / "scenarios" / "tiny.toml").with_overrides(**overrides)


def a_couple_with_a_speaker(world: World) -> tuple[Any, Any, Any]:
    for household in world.households:
        speakers = [d for p in household.members for d in p.devices if d.type == "speaker"]
        if len(household.members) == 2 and speakers:
            first, second = household.members
            return first, second, speakers[0]
    raise AssertionError("the tiny scenario draws a couple with a speaker")


def block(context: str, use: dict[str, float]) -> Block:
    return Block(context=context, start=540, end=720, jitter=0, sessions_per_hour=0.0, use=use)


def total_audio(world: World) -> int:
    return sum(world.outcomes.audio_by_hour.values())


def test_a_speaker_playing_for_two_people_at_once_counts_once() -> None:
    """Comscore counted a speaker's data: two people wanting the radio on hear one stream."""
    world = World(tiny())
    first, second, speaker = a_couple_with_a_speaker(world)
    tally_audio(world, first, speaker, 0.0, 3600.0)
    tally_audio(world, second, speaker, 1800.0, 5400.0)
    assert total_audio(world) == 5400
    tally_audio(world, second, speaker, 7200.0, 9000.0)
    assert total_audio(world) == 5400 + 1800


def test_a_stay_in_the_living_room_with_the_speaker_has_audio_to_its_end() -> None:
    world = World(tiny())
    first, _, _ = a_couple_with_a_speaker(world)
    world.brand.use = replace(world.brand.use, settle_share=1.0)
    first.devices = [d for d in first.devices if d.type in ("speaker", "tablet")]
    kitchen = block("home.kitchen", {"speaker": 0.5, "tablet": 0.5})
    reading = block("home.living_room", {"tablet": 1.0})
    listening = block("home.living_room", {"speaker": 0.3, "tablet": 0.7})
    weekday, weekend = a_weekday_and_a_weekend_day(world)
    settle(world, first, kitchen, 3600.0, weekday)
    assert total_audio(world) == 0, "a weekday kitchen is passed through: audio from requests"
    settle(world, first, reading, 3600.0, weekday)
    assert total_audio(world) == 0, "no speaker in this stay's use table: no audio"
    settle(world, first, listening, 3600.0, weekday)
    assert total_audio(world) == 3600
    first.menus.clear()
    world.env.run(until=7200.0)
    settle(world, first, kitchen, 10800.0, weekend)
    assert total_audio(world) == 3600 + 3600, "the long weekend breakfast has the radio on"


def a_weekday_and_a_weekend_day(world: World) -> tuple[int, int]:
    weekdays = [(world.scenario.start + timedelta(days=d)).weekday() for d in range(7)]
    return weekdays.index(0), weekdays.index(5)


def test_home_audio_draws_from_its_own_stream_so_nothing_else_moves() -> None:
    def run(share: float) -> tuple[list[str], int]:
        population = load_scenario(ROOT / "scenarios" / "population.toml")
        world = World(population.with_overrides(persons=40, days=3))
        world.brand.use = replace(world.brand.use, settle_share=share)
        ids: list[str] = []
        world.event_emitted.add_listener(lambda event, **_: ids.append(event["messageId"]))
        play(world)
        return ids, total_audio(world)

    without, quiet = run(0.0)
    with_audio, played = run(1.0)
    assert with_audio == without
    assert played > quiet


def test_settle_share_must_be_a_probability() -> None:
    data = load_toml(DEVICE_USE)
    data["speaker"]["settle_share"] = {"value": 1.4, "remark": "wrong"}
    with pytest.raises(ConfigError, match=r"speaker\.settle_share"):
        parse_device_use(data, DEVICE_USE)
