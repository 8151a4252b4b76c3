"""Personas and scenarios load from TOML and fail loudly, naming file, key and expectation."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.errors import ConfigError
from sim.world.persona import load_persona, load_personas, parse_persona
from sim.world.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def solo() -> dict[str, object]:
    return tomllib.loads((FIXTURES / "personas" / "solo.toml").read_text())


def problems_of(data: dict[str, object]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_persona(data, "solo.toml")
    return caught.value.problems


def test_fixture_persona_loads_with_devices_and_routine() -> None:
    persona = load_persona(FIXTURES / "personas" / "solo.toml")
    assert [d.type for d in persona.devices] == ["phone", "laptop", "watch", "speaker"]
    assert persona.devices[3].shared and not persona.devices[0].shared
    assert persona.routine["weekday"][1].use == {"phone": 0.5, "speaker": 0.5}
    assert persona.buy_on["laptop"] == pytest.approx(0.8)


def test_unknown_device_type_is_named_with_file_and_key() -> None:
    data = solo()
    data["devices"][0]["type"] = "fridge"  # type: ignore[index]
    problems = problems_of(data)
    assert any(
        "solo.toml: devices[0].type: expected one of phone" in p and "fridge" in p for p in problems
    )


def test_every_problem_is_reported_at_once() -> None:
    data = solo()
    data["age"] = {"min": 40, "max": 20, "remark": "x"}
    data["routine"]["weekday"][1]["context"] = "moon"  # type: ignore[index]
    data["timezones"] = {"Mars/Olympus": 1.0, "remark": "x"}
    problems = problems_of(data)
    assert any("age.max" in p for p in problems)
    assert any("routine.weekday[1].context" in p and "moon" in p for p in problems)
    assert any("Mars/Olympus" in p and "IANA" in p for p in problems)


def test_number_without_source_or_remark_is_refused() -> None:
    data = solo()
    del data["age"]["remark"]  # type: ignore[attr-defined]
    problems = problems_of(data)
    assert problems == ["solo.toml: age: expected a 'source' or 'remark' for its numbers"]


def test_routine_may_only_use_owned_devices() -> None:
    data = solo()
    data["routine"]["weekend"][0]["use"] = {"tv": 1.0}  # type: ignore[index]
    problems = problems_of(data)
    assert any("routine.weekend[0].use.tv" in p and "owns" in p for p in problems)


def test_shipped_personas_all_validate() -> None:
    personas = load_personas(ROOT / "personas")
    assert {"mason", "susan", "kaylee"} <= set(personas)
    assert len(personas) >= 7
    susan = personas["susan"]
    assert sum(d.type == "phone" for d in susan.devices) == 2
    mason_types = {d.type for d in personas["mason"].devices}
    assert {"phone", "tablet", "tv", "speaker"} <= mason_types
    assert {"laptop", "watch", "phone", "car"} <= {d.type for d in personas["kaylee"].devices}


def test_shipped_scenarios_validate() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        assert load_scenario(path).name


def test_scenario_with_unknown_persona_names_the_entry(tmp_path: Path) -> None:
    text = (
        (FIXTURES / "scenarios" / "tiny.toml")
        .read_text()
        .replace("{ solo = 1.0 }", "{ ghost = 1.0 }", 1)
    )
    text = text.replace('personas = "../personas"', f'personas = "{FIXTURES / "personas"}"')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert any("households[0].members[0].from.ghost" in p for p in caught.value.problems)


def test_unknown_keys_are_named_not_ignored() -> None:
    data = solo()
    data["devices"][0]["logs_on"] = 0.5  # type: ignore[index]
    data["jouney"] = {"browse": 0.1, "remark": "typo"}
    problems = problems_of(data)
    assert any("devices[0].logs_on: expected a known key" in p for p in problems)
    assert any("solo.toml: jouney: expected a known key" in p for p in problems)


def test_a_routine_that_overlaps_itself_is_refused() -> None:
    data = solo()
    data["routine"]["weekday"][2]["start"] = "07:30"  # type: ignore[index]
    problems = problems_of(data)
    assert any(
        "routine.weekday[2].start" in p and "previous block's end (08:00)" in p for p in problems
    )


def test_out_of_range_probability_is_refused() -> None:
    data = solo()
    data["lifecycle"]["opt_in"]["push"] = 1.5  # type: ignore[index]
    problems = problems_of(data)
    assert any(
        "lifecycle.opt_in.push: expected a number between 0 and 1, got 1.5" in p for p in problems
    )


def scenario_file(tmp_path: Path, edit: Callable[[str], str]) -> Path:
    text = (FIXTURES / "scenarios" / "tiny.toml").read_text()
    text = text.replace('personas = "../personas"', f'personas = "{FIXTURES / "personas"}"')
    path = tmp_path / "scenario.toml"
    path.write_text(edit(text))
    return path


def test_empty_population_is_refused(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, lambda t: t.replace("persons = 12", "persons = 0"))
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert any("persons: expected at least 1 person" in p for p in caught.value.problems)


def test_unknown_scenario_key_and_wrong_type(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, lambda t: t.replace("days = 2", 'days = "two"\nweeks = 1'))
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    problems = caught.value.problems
    assert any("scenario.toml: weeks: expected a known key" in p for p in problems)
    assert any(
        "scenario.toml: days: expected a whole number between 1 and 366, got 'two'" in p
        for p in problems
    )
