"""Where households live: a country's states by resident population, each on its own clock.

Like the census map on the enumerator's wall: California holds about one
American in eight, Texas one in eleven, Wyoming one in six hundred, and each
state's clocks keep one time zone. An American household draws its state by
that share and takes the state's zone, so the population's time zones are the
census's (about 47% Eastern, 29% Central, 7% Mountain with Arizona, 16%
Pacific), not a guess per persona. The numbers live in
``data/residence.toml`` with their source; this module reads them loudly
(every problem names the file, the key and what was expected).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sim.world.schema import PROVENANCE_KEYS, Reader, load_toml

DATA = Path(__file__).resolve().parents[2] / "data"
FILE = "residence.toml"
COUNTRY_KEYS = ("total", "states")
STATE_KEYS = ("name", "zone", "population")
STATE_CODE = re.compile(r"[A-Z]{2}")
MOST_RESIDENTS = 2 * 10**9  # above any country's count: a figure past it is a typo
COUNTRIES = ("US",)  # the countries whose households draw a state (en_US)
# A country whose households all keep one clock: no states to draw (the locale's zone).
LOCALE_ZONES = {
    "fr_FR": "Europe/Paris",
    "ru_RU": "Europe/Moscow",
    "pl_PL": "Europe/Warsaw",
    "ko_KR": "Asia/Seoul",
    "en_GB": "Europe/London",
    "de_DE": "Europe/Berlin",
}


@dataclass(frozen=True)
class State:
    """One state: its postal code, name, IANA time zone and residents."""

    code: str
    name: str
    zone: str
    population: int


@dataclass(frozen=True)
class Country:
    """A country's states; ``shares`` is each state's part of the residents (summing to 1)."""

    states: dict[str, State]
    shares: dict[str, float]

    def zone_shares(self) -> dict[str, float]:
        """Each time zone's part of the residents: the sum of its states' shares."""
        out: dict[str, float] = {}
        for code, share in self.shares.items():
            zone = self.states[code].zone
            out[zone] = out.get(zone, 0.0) + share
        return out

    def in_zone(self, zone: str) -> dict[str, float]:
        """The states on ``zone``'s clock by their part of its residents (empty: none)."""
        return shares([s for s in self.states.values() if s.zone == zone])


def shares(states: list[State]) -> dict[str, float]:
    """Each state's part of the residents of ``states`` (empty when there are none)."""
    total = sum(s.population for s in states)
    return {s.code: s.population / total for s in states} if total else {}


def _zone(reader: Reader, entry: dict[str, Any], where: str) -> str:
    zone = reader.text(entry, "zone", where)
    if not zone:  # the reader has said what is missing
        return zone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        reader.fail(f"{where}zone", "an IANA time zone such as America/Chicago", zone)
    return zone


def _state(reader: Reader, code: str, entry: Any, where: str) -> State | None:
    if not STATE_CODE.fullmatch(code):
        reader.fail(where.rstrip("."), "a two-letter state code in capitals, such as NY", code)
    if not isinstance(entry, dict):
        reader.fail(where.rstrip("."), "a table with name, zone and population", entry)
        return None
    reader.known(entry, STATE_KEYS, where)
    return State(
        code=code,
        name=reader.text(entry, "name", where),
        zone=_zone(reader, entry, where),
        population=reader.integer(entry, "population", where, 1, MOST_RESIDENTS),
    )


def _country(reader: Reader, name: str, table: Any) -> Country:
    if not isinstance(table, dict):
        reader.fail(name, "a table with total, states and a source", table)
        return Country({}, {})
    reader.known(table, COUNTRY_KEYS, f"{name}.")
    total = reader.integer(table, "total", f"{name}.", 1, MOST_RESIDENTS)
    entries = reader.table(table, "states", f"{name}.")
    if isinstance(table.get("states"), dict) and not entries:
        reader.fail(f"{name}.states", "at least one state")
    states = {
        code: state
        for code, entry in entries.items()
        if (state := _state(reader, code, entry, f"{name}.states.{code}.")) is not None
    }
    counted = sum(s.population for s in states.values())
    if states and "total" in table and counted != total:
        reader.fail(f"{name}.total", f"the sum of the states' populations ({counted:,})", total)
    return Country(states, shares(list(states.values())))


def parse_residence(data: dict[str, Any], path: Path | str) -> dict[str, Country]:
    """Validate ``residence.toml``; raise ``ConfigError`` naming every problem."""
    reader = Reader(path)
    reader.check_provenance(data)
    countries = {
        name: _country(reader, name, table)
        for name, table in data.items()
        if name not in PROVENANCE_KEYS
    }
    for name in countries:
        if name not in COUNTRIES:
            reader.fail(name, f"a country whose households draw a state ({', '.join(COUNTRIES)})")
    if "US" not in countries:
        reader.fail("US", "the US states (where en_US households live)")
    reader.raise_if_any()
    return countries


def placement_problem(locale: str, timezones: dict[str, float]) -> str | None:
    """Why a household of ``locale`` cannot be placed (None: it can).

    ``timezones`` is its first member's own zone mix (empty: the locale's
    people). An American household on a persona's zone needs a state keeping
    that clock; a household of another locale needs the locale's one zone or
    a mix of its own.
    """
    if locale == "en_US":
        zones = load_residence()["US"].zone_shares()
        for zone in timezones:
            if zone not in zones:
                return unplaceable_zone(zone, zones)
        return None
    if locale in LOCALE_ZONES or timezones:
        return None
    known = ", ".join(["en_US", *LOCALE_ZONES])
    return f"a locale with a known time zone ({known}), or a [timezones] mix in the persona"


def unplaceable_zone(zone: str, zones: dict[str, float] | None = None) -> str:
    """The words for an American persona zone on which no state keeps its clock."""
    known = zones if zones is not None else load_residence()["US"].zone_shares()
    return (
        f"timezones.{zone}: a zone on which a US state keeps its clock ({', '.join(sorted(known))})"
    )


@cache
def load_residence(folder: Path = DATA) -> dict[str, Country]:
    """``folder``'s ``residence.toml``, validated (read once per process)."""
    return parse_residence(load_toml(folder / FILE), folder / FILE)
