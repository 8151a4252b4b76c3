"""The published rates (data/*.toml) load, and bad ones fail naming file, key and expectation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sim.errors import ConfigError
from sim.world.census import (
    DATA,
    load_census,
    parse_commute,
    parse_ownership,
    parse_paths,
)
from sim.world.schema import load_toml


def ownership_doc() -> dict[str, Any]:
    return copy.deepcopy(load_toml(DATA / "ownership.toml"))


def problems(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    return "\n".join(excinfo.value.problems)


def test_the_shipped_tables_load_and_answer_by_country_and_age() -> None:
    census = load_census()
    rate = census.ownership.rate
    assert rate("US", "phone", 25) > rate("US", "phone", 70)
    assert rate("US", "watch", 30) == 0.25 and rate("US", "watch", 55) == 0.17
    assert rate("FR", "phone", 40) == 0.87
    assert rate("FR", "watch", 30) == rate("US", "watch", 30)  # borrowed, with a remark
    assert rate("DE", "phone", 40) == rate("US", "phone", 40)  # unknown country: the US
    assert census.modes("US")["transit"] < census.modes("FR")["transit"]
    assert abs(sum(census.paths.watch.values()) - 1.0) < 1e-9


def test_a_rate_outside_zero_and_one_names_file_key_and_expectation() -> None:
    doc = ownership_doc()
    doc["US"]["phone"]["rates"]["65+"] = 1.4
    with pytest.raises(ConfigError) as excinfo:
        parse_ownership(doc, "ownership.toml")
    assert "ownership.toml: US.phone.rates.65+: expected a number between 0 and 1, got 1.4" in (
        problems(excinfo)
    )


def test_a_rate_without_a_source_fails() -> None:
    doc = ownership_doc()
    del doc["FR"]["phone"]["source"]
    with pytest.raises(ConfigError) as excinfo:
        parse_ownership(doc, "ownership.toml")
    assert "ownership.toml: FR.phone: expected a 'source' or 'remark' for its numbers" in problems(
        excinfo
    )


def test_band_rates_that_cannot_average_to_the_published_total_fail() -> None:
    doc = ownership_doc()
    doc["US"]["watch"]["total"] = 0.6  # every band is at most 0.25
    with pytest.raises(ConfigError) as excinfo:
        parse_ownership(doc, "ownership.toml")
    text = problems(excinfo)
    assert "US.watch.total: expected a total between the lowest and highest band rate" in text
    assert "got 0.6" in text


def test_band_rates_must_average_to_the_total_over_the_adults_age_mix() -> None:
    census = load_census()
    mix = census.ownership.age_mix["US"]
    assert abs(sum(mix.values()) - 1.0) < 1e-9 and "teen" not in mix
    phone = sum(share * census.ownership.rates["US"]["phone"][band] for band, share in mix.items())
    assert abs(phone - 0.91) <= 0.01  # Pew's 91%: its age profile over the ACS mix
    doc = ownership_doc()
    doc["US"]["phone"]["rates"]["65+"] = 0.4  # inside [low, high] of the bands, but too low
    doc["age_mix"]["US"]["30-49"] = 0.5
    with pytest.raises(ConfigError) as excinfo:
        parse_ownership(doc, "ownership.toml")
    text = problems(excinfo)
    assert "ownership.toml: age_mix.US: expected shares that sum to 1, got 1.17" in text
    doc = ownership_doc()
    doc["US"]["phone"]["rates"]["65+"] = 0.4
    with pytest.raises(ConfigError) as excinfo:
        parse_ownership(doc, "ownership.toml")
    assert (
        "ownership.toml: US.phone.total: expected the band rates averaged over age_mix.US"
        " (0.832), within 0.01, got 0.91"
    ) in problems(excinfo)
    doc = ownership_doc()
    doc["age_mix"]["UX"] = dict(doc["age_mix"]["US"])  # a misspelt country is never checked
    with pytest.raises(ConfigError) as excinfo:
        parse_ownership(doc, "ownership.toml")
    assert "ownership.toml: age_mix.UX: expected a country with its own tables" in problems(excinfo)


def test_a_missing_band_and_a_borrowed_table_that_does_not_exist_fail() -> None:
    doc = ownership_doc()
    del doc["US"]["tablet"]["rates"]["teen"]
    doc["PL"]["watch"]["from"] = "XX"
    with pytest.raises(ConfigError) as excinfo:
        parse_ownership(doc, "ownership.toml")
    text = problems(excinfo)
    assert "US.tablet.rates.teen: expected a rate for every age band" in text
    assert "PL.watch.from: expected a country whose table gives its own rates, got 'XX'" in text


def test_commute_shares_that_do_not_sum_to_one_fail() -> None:
    doc = copy.deepcopy(load_toml(DATA / "commute.toml"))
    doc["US"]["transit"] = 0.5
    with pytest.raises(ConfigError) as excinfo:
        parse_commute(doc, "commute.toml")
    assert "commute.toml: US: expected shares that sum to 1, got 1.46" in problems(excinfo)


def test_network_paths_need_every_share_and_a_source() -> None:
    doc = copy.deepcopy(load_toml(DATA / "network.toml"))
    del doc["car"]["embedded"]
    del doc["watch"]["source"]
    with pytest.raises(ConfigError) as excinfo:
        parse_paths(doc, "network.toml")
    text = problems(excinfo)
    assert "network.toml: car.embedded: expected a share for every one of projection, embedded" in (
        text
    )
    assert "network.toml: watch: expected a 'source' or 'remark' for its numbers" in text
