"""Realism rows about the population: counted from people and truth rows, never from inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sim.analysis.published import PUBLISHED, published
from sim.analysis.realism_people import NAMES as PEOPLE_ROWS
from sim.analysis.realism_people import people_figures
from sim.cli import main
from sim.errors import ConfigError
from sim.trace.reader import read_jsonl

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "tiny.toml"
NAMES = [
    "US adults owning a smartphone",
    "US adults wearing a smartwatch or fitness tracker",
    "US adults with a smart speaker at home",
    "US adults owning a tablet",
    "US adults owning a desktop or laptop computer",
    "US workers commuting by public transport",
    "Households spread over two or more places",
]


def person(pid: str, house: str, age: int, devices: list[str], **more: Any) -> dict[str, Any]:
    row = {
        "person_id": pid,
        "household_id": house,
        "age": age,
        "country": "US",
        "timezone": "America/Chicago",
        "region": "IL",
        "city": "Springfield",
        "commute": None,
        "devices": devices,
    }
    return row | more


def device(
    did: str, kind: str, house: str, owner: str | None, os: str = "Android"
) -> dict[str, Any]:
    return {
        "device_id": did,
        "device_type": kind,
        "household_id": house,
        "person_id": owner,
        "os": os,
    }


PEOPLE = [
    person("a", "h1", 40, ["a-phone", "h1-tv", "h1-laptop"], commute="car"),
    person("b", "h1", 38, ["b-phone", "b-watch", "h1-laptop"], commute="transit"),
    person("c", "h1", 15, ["c-phone", "h1-laptop"]),  # a teen: not an adult
    person("d", "h2", 70, ["d-tablet"], timezone="America/Denver", commute="home"),
    person("e", "h2", 69, ["e-phone", "e-tablet"], commute="car"),
    person("f", "h3", 30, ["f-phone", "f-watch"], country="FR", commute="transit"),
]
TRUTH = [
    device("a-phone", "phone", "h1", "a", "iOS"),
    device("b-phone", "phone", "h1", "b"),
    device("b-watch", "watch", "h1", "b"),
    device("c-phone", "phone", "h1", "c", "iOS"),  # a teen's: not counted
    device("h1-tv", "tv", "h1", None),
    device("h1-laptop", "laptop", "h1", None),
    device("h1-speaker", "speaker", "h1", None),
    device("d-tablet", "tablet", "h2", "d"),
    device("e-phone", "phone", "h2", "e"),
    device("e-tablet", "tablet", "h2", "e"),
    device("f-phone", "phone", "h3", "f"),
    device("f-watch", "watch", "h3", "f"),
]


def values() -> dict[str, float | None]:
    return {f.name: f.value for f in people_figures(PEOPLE, TRUTH)}


def test_ownership_counts_us_adults_from_the_truth_of_who_owns_what() -> None:
    got = values()
    assert got["US adults owning a smartphone"] == pytest.approx(3 / 4)  # a, b, e; not d
    assert got["US adults wearing a smartwatch or fitness tracker"] == pytest.approx(1 / 4)
    assert got["US adults with a smart speaker at home"] == pytest.approx(2 / 4)  # h1's a and b
    assert got["US adults owning a tablet"] == pytest.approx(2 / 4)
    assert got["US adults owning a desktop or laptop computer"] == pytest.approx(2 / 4)


def test_commute_counts_us_workers_home_workers_included() -> None:
    assert values()["US workers commuting by public transport"] == pytest.approx(1 / 4)


def test_a_household_whose_members_live_in_two_time_zones_is_counted() -> None:
    assert values()["Households spread over two or more places"] == pytest.approx(1 / 2)


def test_rows_carry_the_band_and_say_whether_the_value_is_inside() -> None:
    rows = [f.as_row() for f in people_figures(PEOPLE, TRUTH)]
    assert [r["name"] for r in rows] == NAMES
    phone = rows[0]
    assert (phone["published"], phone["low"], phone["high"]) == (0.91, 0.89, 0.93)
    assert phone["within"] is False and "Pew" in phone["source"]
    assert rows[-1]["within"] is False


def test_names_bands_and_sources_are_the_published_files_rows() -> None:
    assert list(PEOPLE_ROWS) == NAMES
    references = published()
    for row in people_figures(PEOPLE, TRUTH):
        reference = references[row.name]
        assert (row.published, row.low, row.high, row.source) == (
            reference.published,
            reference.low,
            reference.high,
            reference.source,
        )


def edited(folder: Path, old: str, new: str) -> Path:
    """A copy of data/published.toml with ``old`` replaced by ``new`` (which must be there).

    Each copy in a folder of its own: the loaded files are cached by path.
    """
    text = PUBLISHED.read_text()
    assert old in text
    folder.mkdir()
    path = folder / "published.toml"
    path.write_text(text.replace(old, new))
    return path


def test_a_people_row_missing_from_the_published_file_fails_naming_file_and_key(
    tmp_path: Path,
) -> None:
    path = edited(
        tmp_path / "missing", '[figures."US adults owning a tablet"]', '[figures."tablets"]'
    )
    expected = rf'{path}: figures\."US adults owning a tablet": expected a table with published'
    with pytest.raises(ConfigError, match=expected) as error:
        people_figures(PEOPLE, TRUTH, path)
    assert len(error.value.problems) == 1, "only the missing row: the renamed one is no people row"


def test_a_people_row_with_a_bad_band_fails_naming_file_key_and_what_was_expected(
    tmp_path: Path,
) -> None:
    row = '[figures."US adults owning a smartphone"]\npublished = 0.91\nlow = 0.89\nhigh = 0.93'
    above = edited(tmp_path / "above", row, row.replace("low = 0.89", "low = 0.92"))
    expected = rf'{above}: figures\."US adults owning a smartphone"\.published: expected a value'
    with pytest.raises(ConfigError, match=expected + r" between low 0\.92 and high 0\.93"):
        people_figures(PEOPLE, TRUTH, above)
    wide = edited(tmp_path / "wide", row, row.replace("high = 0.93", "high = 1.5"))
    expected = rf'{wide}: figures\."US adults owning a smartphone"\.high: expected a share'
    with pytest.raises(ConfigError, match=expected + r" between 0 and 1, got 1\.5"):
        people_figures(PEOPLE, TRUTH, wide)


def test_no_us_adults_means_nothing_to_measure() -> None:
    figures = people_figures([person("x", "h", 30, [], country="KR")], [])
    assert all(f.value is None and not f.within for f in figures[:6])


def test_a_run_writes_the_rows_counted_from_its_own_tables(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", str(TINY), "--out", str(out), "--quiet", "--no-report"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    rows = [r for r in summary["realism"]["figures"] if r["name"] in NAMES]
    assert [r["name"] for r in rows] == NAMES
    people = list(read_jsonl(out / "people.jsonl"))
    truth = list(read_jsonl(out / "truth.jsonl.gz"))
    assert rows == [f.as_row() for f in people_figures(people, truth)]
    spanning = rows[-1]
    assert spanning["value"] == 0.0 and spanning["within"] is True
