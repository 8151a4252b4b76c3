"""Where households live (data/residence.toml): drawn by census population, one place per home."""

from __future__ import annotations

import copy
import math
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.errors import ConfigError
from sim.world.numpy_draws import NumpyDraws
from sim.world.persona import load_persona, load_personas
from sim.world.population import place_household
from sim.world.residence import DATA, FILE, load_residence, parse_residence
from sim.world.scenario import load_scenario
from sim.world.schema import load_toml

ROOT = Path(__file__).resolve().parents[2]
DRAWS = 12_000
SIGMAS = 4.5  # a share drawn DRAWS times lands within this many standard errors of its mean


def residence_doc() -> dict[str, Any]:
    return copy.deepcopy(load_toml(DATA / FILE))


def problems_of(doc: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as excinfo:
        parse_residence(doc, FILE)
    return "\n".join(excinfo.value.problems)


def zones_drawn(timezones: dict[str, float], locale: str = "en_US") -> Counter[str]:
    """The zones of DRAWS households whose first member has ``timezones`` (empty: census)."""
    persona = replace(load_persona(ROOT / "personas" / "commuter.toml"), timezones=timezones)
    rng = NumpyDraws(np.random.default_rng(20).bit_generator)
    return Counter(place_household(rng, persona, locale)[0] for _ in range(DRAWS))


def test_the_shipped_states_are_the_2020_census_fifty_states_and_dc() -> None:
    us = load_residence()["US"]
    assert len(us.states) == 51 and "DC" in us.states
    assert sum(s.population for s in us.states.values()) == 331_449_281
    assert us.states["CA"].population == 39_538_223 and us.states["CA"].zone == (
        "America/Los_Angeles"
    )
    zones = us.zone_shares()
    assert 0.46 < zones["America/New_York"] < 0.48
    assert 0.16 < zones["America/Los_Angeles"] < 0.17


def test_drawn_zones_match_the_census_shares_not_the_old_persona_mix() -> None:
    expected = load_residence()["US"].zone_shares()
    drawn = zones_drawn({})
    assert set(drawn) <= set(expected)
    for zone, share in expected.items():
        error = SIGMAS * math.sqrt(share * (1 - share) / DRAWS)
        assert abs(drawn[zone] / DRAWS - share) <= error, zone
    old = {"America/New_York": 0.45, "America/Chicago": 0.2, "America/Los_Angeles": 0.35}
    pacific = zones_drawn(old)["America/Los_Angeles"] / DRAWS  # the mix the personas had
    share = expected["America/Los_Angeles"]
    assert abs(pacific - share) > SIGMAS * math.sqrt(share * (1 - share) / DRAWS)


def test_a_zone_mix_of_the_personas_own_overrides_and_keeps_the_state_on_its_clock() -> None:
    persona = replace(
        load_persona(ROOT / "personas" / "commuter.toml"), timezones={"America/Denver": 1.0}
    )
    rng = NumpyDraws(np.random.default_rng(3).bit_generator)
    states = load_residence()["US"].states
    regions = Counter(place_household(rng, persona, "en_US")[2] for _ in range(2000))
    assert {states[code].zone for code in regions} == {"America/Denver"}
    assert regions["CO"] > regions["WY"]  # by population within the zone


def test_other_locales_keep_their_one_zone() -> None:
    assert set(zones_drawn({}, "fr_FR")) == {"Europe/Paris"}
    assert set(zones_drawn({}, "ko_KR")) == {"Asia/Seoul"}


def test_shipped_personas_leave_the_zone_to_the_census() -> None:
    personas = load_personas(ROOT / "personas")
    assert personas and all(not p.timezones for p in personas.values())


def test_a_locale_without_a_known_zone_needs_the_personas_zone_mix() -> None:
    persona = load_persona(ROOT / "personas" / "commuter.toml")
    rng = NumpyDraws(np.random.default_rng(1).bit_generator)
    with pytest.raises(ConfigError, match="commuter: timezones: expected a zone mix for locale"):
        place_household(rng, persona, "en_CA")
    mixed = replace(persona, timezones={"America/Toronto": 1.0})
    assert place_household(rng, mixed, "en_CA")[0] == "America/Toronto"


def test_an_unknown_zone_is_named_with_file_and_key() -> None:
    doc = residence_doc()
    doc["US"]["states"]["AZ"]["zone"] = "America/Tucson"
    assert (
        "residence.toml: US.states.AZ.zone: expected an IANA time zone such as America/Chicago,"
        " got 'America/Tucson'" in problems_of(doc)
    )


def test_a_negative_population_and_a_wrong_total_fail() -> None:
    doc = residence_doc()
    doc["US"]["states"]["WY"]["population"] = -576_851
    found = problems_of(doc)
    assert "residence.toml: US.states.WY.population: expected a whole number between 1" in found
    doc = residence_doc()
    doc["US"]["states"]["WY"]["population"] = 567_851  # a typo: two digits swapped
    assert "residence.toml: US.total: expected the sum of the states' populations" in (
        problems_of(doc)
    )


def test_populations_without_a_source_fail() -> None:
    doc = residence_doc()
    del doc["US"]["source"]
    del doc["US"]["remark"]
    assert "expected a 'source' or 'remark' for its numbers" in problems_of(doc)


def test_a_bad_state_code_and_an_unknown_key_fail() -> None:
    doc = residence_doc()
    doc["US"]["states"]["Calif"] = doc["US"]["states"].pop("CA")
    doc["US"]["states"]["TX"]["capital"] = "Austin"
    found = problems_of(doc)
    assert "US.states.Calif: expected a two-letter state code" in found
    assert "US.states.TX.capital: expected a known key" in found


def population_scenario(tmp_path: Path, edit: Any) -> Path:
    """scenarios/population.toml with ``edit`` applied, read from ``tmp_path``."""
    text = (ROOT / "scenarios" / "population.toml").read_text()
    text = f'personas = "{ROOT / "personas"}"\n' + edit(text)
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return path


def test_a_scenario_locale_without_a_known_zone_fails_when_loaded(tmp_path: Path) -> None:
    path = population_scenario(tmp_path, lambda t: t.replace("ko_KR = 0.13", "en_CA = 0.13"))
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    found = "\n".join(caught.value.problems)
    assert "scenario.toml: locales.en_CA: expected a locale with a known time zone" in found
    assert "households of persona commuter" in found


def test_an_american_persona_zone_without_a_state_fails_when_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "personas"
    folder.mkdir()
    for source in (ROOT / "personas").glob("*.toml"):
        (folder / source.name).write_text(source.read_text())
    commuter = folder / "commuter.toml"
    commuter.write_text(
        commuter.read_text().replace(
            "[age]", '[timezones]\n"America/Detroit" = 1.0\nremark = "test"\n\n[age]', 1
        )
    )
    path = population_scenario(tmp_path, lambda t: t)
    path.write_text(path.read_text().replace(str(ROOT / "personas"), str(folder)))
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert any(
        "locales.en_US: expected timezones.America/Detroit: a zone on which a US state keeps"
        " its clock ("
        in p
        and "persona commuter" in p
        for p in caught.value.problems
    )
    persona = replace(load_persona(commuter), timezones={"America/Detroit": 1.0})
    rng = NumpyDraws(np.random.default_rng(3).bit_generator)
    with pytest.raises(ConfigError, match=r"persona commuter: expected timezones\.America/Detroit"):
        place_household(rng, persona, "en_US")  # never a Faker state off the clock


def test_no_states_and_an_unused_country_fail() -> None:
    doc = residence_doc()
    doc["US"]["states"] = {}
    doc["CA"] = {"total": 1, "states": {}, "remark": "test"}
    found = problems_of(doc)
    assert "residence.toml: US.states: expected at least one state" in found
    assert "residence.toml: CA: expected a country whose households draw a state (US)" in found


def test_a_missing_zone_or_total_is_said_once_without_made_up_values() -> None:
    doc = residence_doc()
    del doc["US"]["states"]["AZ"]["zone"]
    del doc["US"]["total"]
    found = problems_of(doc).splitlines()
    assert [p for p in found if "US.states.AZ.zone" in p] == [
        "residence.toml: US.states.AZ.zone: expected a non-empty string"
    ]
    assert [p for p in found if "US.total" in p] == [
        "residence.toml: US.total: expected a whole number between 1 and 2000000000"
    ]
