"""The scenario's ``[identity]`` table: defaults, and errors that name the key."""

from __future__ import annotations

import pytest

from sim.engine.identity import IdentityConfig
from sim.errors import ConfigError


def test_an_empty_table_gives_the_documented_defaults() -> None:
    config = IdentityConfig.from_mapping({}, "scenarios/population.toml")
    assert config.deterministic and config.probabilistic
    assert config.max_user_ids == 1
    assert config.priority == ("userId", "email", "phone", "deviceId", "anonymousId")
    assert all(config.rule_on(name) for name in ("ip", "time", "behaviour"))


def test_rules_can_be_switched_off_one_by_one() -> None:
    config = IdentityConfig.from_mapping(
        {"rules": {"time": False}, "threshold": 9, "max_device_ids": 3}, "s.toml"
    )
    assert config.rule_on("ip") and not config.rule_on("time")
    assert config.threshold == 9.0 and config.limit("deviceId") == 3
    off = IdentityConfig.from_mapping({"probabilistic": False}, "s.toml")
    assert not off.rule_on("ip")


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"threshold": "high"}, "s.toml: [identity].threshold: expected a number, got 'high'"),
        ({"max_user_ids": 0}, "s.toml: [identity].max_user_ids: expected an integer >= 1, got 0"),
        ({"deterministic": "yes"}, "s.toml: [identity].deterministic: expected true or false"),
        ({"rules": {"gps": True}}, "s.toml: [identity].rules.gps: unknown rule"),
        ({"rules": ["ip"]}, "s.toml: [identity].rules: expected a table"),
        ({"priority": ["userId"]}, "s.toml: [identity].priority: expected each of"),
        ({"household_device_types": ["fridge"]}, "unknown device type 'fridge'"),
        ({"treshold": 3}, "s.toml: [identity].treshold: unknown key"),
    ],
)
def test_a_bad_value_names_the_file_the_key_and_what_was_expected(
    table: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        IdentityConfig.from_mapping(table, "s.toml")
    assert any(expected in problem for problem in caught.value.problems)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        IdentityConfig.from_mapping(
            {"threshold": None, "max_device_ids": -2, "colour": 1}, "s.toml"
        )
    assert len(caught.value.problems) == 3
