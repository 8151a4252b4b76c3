"""Brand scope: categories from validated data, engagement drawn per person."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.errors import ConfigError
from sim.world.brand import (
    BRANDS,
    DEVICE_USE,
    Brand,
    categories,
    device_use,
    parse_categories,
    parse_device_use,
    pickups_per_day,
)
from sim.world.life import screens_at_hand
from sim.world.reaction_data import REACTIONS, parse_reactions, reaction_odds
from sim.world.rng import Streams
from sim.world.scenario import load_scenario, parse_scenario
from sim.world.schema import load_toml
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_data_files_validate() -> None:
    assert {"retail", "media", "travel"} <= set(categories())
    assert device_use().night_habit_share == 0.5
    odds = reaction_odds()
    assert odds.open_odds("push", "ios") < odds.open_odds("push", "android"), "Appboy 2016"
    assert odds.open_odds("email", "ios") == odds.open_odds("email", "android")


def test_an_unknown_brand_category_fails_naming_file_key_and_choices() -> None:
    path = ROOT / "scenarios" / "population.toml"
    data = load_toml(path)
    data["brand"] = {"category": "casino"}
    personas = load_scenario(path).personas
    with pytest.raises(ConfigError) as error:
        parse_scenario(data, path, personas)
    text = str(error.value)
    assert "population.toml: brand.category: expected one of" in text
    assert "retail" in text and "'casino'" in text


def test_a_probability_outside_0_1_fails_naming_the_key() -> None:
    data: dict[str, Any] = copy.deepcopy(load_toml(BRANDS))
    data["categories"]["retail"]["app_users"]["value"] = 1.4
    with pytest.raises(
        ConfigError,
        match=r"b\.toml: categories\.retail\.app_users\.value: expected a number between 0 and 1, got 1\.4",
    ):
        parse_categories(data, "b.toml")
    reactions: dict[str, Any] = copy.deepcopy(load_toml(REACTIONS))
    reactions["open"]["push"]["ios"] = -0.1
    with pytest.raises(
        ConfigError, match=r"r\.toml: open\.push\.ios: expected a number between 0 and 1"
    ):
        parse_reactions(reactions, "r.toml")


def test_a_rate_without_a_source_fails() -> None:
    data: dict[str, Any] = copy.deepcopy(load_toml(BRANDS))
    del data["categories"]["retail"]["sessions_per_month"]["source"]
    with pytest.raises(
        ConfigError,
        match=r"b\.toml: categories\.retail\.sessions_per_month: expected a 'source' or 'remark'",
    ):
        parse_categories(data, "b.toml")
    use: dict[str, Any] = copy.deepcopy(load_toml(DEVICE_USE))
    del use["second_screen_per_hour"]["source"], use["second_screen_per_hour"]["remark"]
    with pytest.raises(
        ConfigError, match=r"second_screen_per_hour: expected a 'source' or 'remark'"
    ):
        parse_device_use(use, "u.toml")


def test_engagement_is_skewed_heavy_and_light_and_odds_stay_probabilities() -> None:
    world = World(load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(persons=300))
    brand = Brand(categories()["retail"], device_use())
    drawn = [brand.of(p, world.streams) for p in world.people()]
    intensity = np.sort([e.intensity for e in drawn])[::-1]
    top = intensity[: len(intensity) // 5].sum() / intensity.sum()
    assert 0.4 < top < 0.65, "gamma shape 1: the top fifth holds about half (Sharp's Pareto share)"
    assert all(0.0 <= p <= 1.0 for e in drawn for p in e.odds.values())
    users = sum(e.app_user for e in drawn) / len(drawn)
    assert 0.4 < users < 0.6
    again = Brand(categories()["retail"], device_use())
    assert [again.of(p, Streams(world.scenario.seed)).intensity for p in world.people()] == [
        e.intensity for e in drawn
    ], "drawn from each person's own stream: the same for any worker count"


def test_pick_ups_per_day_count_what_is_owned_and_at_hand() -> None:
    world = World(load_scenario(ROOT / "scenarios" / "day-in-the-life.toml"))
    mason = next(p for p in world.people() if p.name == "Mason")
    daily = pickups_per_day(mason, device_use())
    assert "laptop" not in daily, "Mason has no laptop"
    assert daily["phone"] > daily["speaker"] > 0
    assert daily["tv"] > 0


def test_retail_carts_complete_by_screen_around_the_persona_odds() -> None:
    """Barilliance's abandonment by device: phone carts go through least, laptop carts most."""
    retail = categories()["retail"]
    completion = retail.cart_completion
    assert completion["phone"] < completion["tablet"] < completion["laptop"]
    assert sum(completion.values()) / len(completion) == pytest.approx(1.0)
    assert all(0.0 < retail.quick_look[k] < 1.0 for k in ("phone", "tablet", "laptop"))
    assert 0.0 < retail.cart_moves <= 1.0
    media = categories()["media"]
    assert (media.cart_completion, media.quick_look, media.cart_moves) == ({}, {}, 0.0)


def test_a_quick_look_share_outside_0_1_fails_naming_the_key() -> None:
    data: dict[str, Any] = copy.deepcopy(load_toml(BRANDS))
    data["categories"]["retail"]["quick_look"]["tablet"] = 1.5
    with pytest.raises(
        ConfigError,
        match=r"b\.toml: categories\.retail\.quick_look\.tablet: expected a number between 0 and 1",
    ):
        parse_categories(data, "b.toml")


def test_the_other_language_odds_are_data_with_a_source_and_validated() -> None:
    assert reaction_odds().other_language == load_toml(REACTIONS)["language"]["other"]
    reactions: dict[str, Any] = copy.deepcopy(load_toml(REACTIONS))
    reactions["language"]["other"] = 1.5
    with pytest.raises(
        ConfigError, match=r"r\.toml: language\.other: expected a number between 0 and 1"
    ):
        parse_reactions(reactions, "r.toml")
    del reactions["language"]["source"], reactions["language"]["remark"]
    reactions["language"]["other"] = 0.6
    with pytest.raises(ConfigError, match=r"r\.toml: language: expected a 'source' or 'remark'"):
        parse_reactions(reactions, "r.toml")


def test_relevance_night_and_fatigue_are_data_and_validated() -> None:
    data = load_toml(REACTIONS)
    odds = reaction_odds()
    assert odds.relevance["cart_waiting"] == data["relevance"]["cart_waiting"]
    assert odds.night_factor == data["night"]["factor"]
    assert odds.fatigue["max_open"] == data["fatigue"]["max_open"]
    start, end = odds.night_hours
    assert odds.at_night(start) and not odds.at_night(end)
    reactions: dict[str, Any] = copy.deepcopy(data)
    reactions["night"]["from_hour"] = 22.5
    with pytest.raises(
        ConfigError, match=r"r\.toml: night\.from_hour: expected a whole hour from 0 to 23"
    ):
        parse_reactions(reactions, "r.toml")
    reactions = copy.deepcopy(data)
    reactions["fatigue"]["max_open"] = 1.2
    with pytest.raises(
        ConfigError, match=r"r\.toml: fatigue\.max_open: expected a number between 0 and 1"
    ):
        parse_reactions(reactions, "r.toml")
    reactions = copy.deepcopy(data)
    del reactions["relevance"]["storm"]
    with pytest.raises(
        ConfigError, match=r"r\.toml: relevance\.storm: expected a number between 0 and 10"
    ):
        parse_reactions(reactions, "r.toml")
    reactions = copy.deepcopy(data)
    del reactions["relevance"]["remark"]
    with pytest.raises(ConfigError, match=r"r\.toml: relevance: expected a 'source' or 'remark'"):
        parse_reactions(reactions, "r.toml")


def test_add_to_cart_multipliers_by_screen_are_read_and_validated() -> None:
    data: dict[str, Any] = copy.deepcopy(load_toml(BRANDS))
    retail = parse_categories(data, "b.toml")["retail"]
    assert retail.add_to_cart == {
        k: float(v)
        for k, v in data["categories"]["retail"]["add_to_cart"].items()
        if k in ("phone", "tablet", "laptop")
    }
    assert parse_categories(data, "b.toml")["media"].add_to_cart == {}  # absent: no multiplier
    data["categories"]["retail"]["add_to_cart"]["laptop"] = -1.0
    data["categories"]["retail"]["add_to_cart"]["tv"] = 1.0
    with pytest.raises(ConfigError) as excinfo:
        parse_categories(data, "b.toml")
    text = "\n".join(excinfo.value.problems)
    assert "b.toml: categories.retail.add_to_cart.laptop: expected a number between 0 and 5" in text
    assert "b.toml: categories.retail.add_to_cart.tv: expected a known key" in text


def test_a_screen_at_hand_share_outside_0_1_fails_naming_the_key() -> None:
    use: dict[str, Any] = copy.deepcopy(load_toml(DEVICE_USE))
    use["second_screen_at_hand"]["phone"] = 1.5
    with pytest.raises(
        ConfigError,
        match=r"u\.toml: second_screen_at_hand\.phone: expected a number between 0 and 1",
    ):
        parse_device_use(use, "u.toml")


def test_a_phone_out_of_reach_is_never_a_second_screen_and_leaves_the_daily_count() -> None:
    """With the phone never at hand on the couch, no sitting has it and the denominator drops it."""
    world = World(load_scenario(ROOT / "scenarios" / "day-in-the-life.toml"))
    mason = next(p for p in world.people() if p.name == "Mason")
    raw: dict[str, Any] = copy.deepcopy(load_toml(DEVICE_USE))
    raw["second_screen_at_hand"]["phone"] = 0.0
    away = parse_device_use(raw, "u.toml")
    assert pickups_per_day(mason, away)["phone"] < pickups_per_day(mason, device_use())["phone"]
    draw = mason.draw
    mason.context = "home.living_room"
    for _ in range(50):
        assert all(d.type != "phone" for d in screens_at_hand(mason, away, draw))
    seen = {d.type for _ in range(50) for d in screens_at_hand(mason, device_use(), draw)}
    assert "phone" in seen and "tablet" in seen, "at the shipped shares both turn up on the couch"


def test_quick_looks_without_a_dwell_fail_naming_the_key() -> None:
    data: dict[str, Any] = copy.deepcopy(load_toml(BRANDS))
    del data["categories"]["retail"]["quick_look_dwell"]
    with pytest.raises(
        ConfigError,
        match=r"b\.toml: categories\.retail\.quick_look_dwell: expected a number of think times",
    ):
        parse_categories(data, "b.toml")


def test_a_quick_look_dwell_is_optional_and_bounded() -> None:
    assert categories()["retail"].quick_look_dwell > 0, "retail quick looks stay a while"
    assert categories()["media"].quick_look_dwell == 0.0, "no quick looks, no dwell"
    data: dict[str, Any] = copy.deepcopy(load_toml(BRANDS))
    data["categories"]["retail"]["quick_look_dwell"] = {"value": 50.0, "remark": "x"}
    with pytest.raises(
        ConfigError,
        match=r"b\.toml: categories\.retail\.quick_look_dwell\.value: expected a number between",
    ):
        parse_categories(data, "b.toml")
