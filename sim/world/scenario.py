"""Scenarios: who lives in the world, for how long, and with which knobs.

A scenario is the casting sheet and the calendar: "a thousand people in
households drawn like the census, for one week from Monday 2 November", or
"Mason, Susan and Kaylee, one week". It also carries the engine's settings
(identity rules, campaigns) untouched, for the engine to validate itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sim.world.network import NetworkPlan
from sim.world.persona import Persona, load_personas
from sim.world.residence import placement_problem
from sim.world.schema import Reader, load_toml

SCENARIO_KEYS = (
    "name",
    "description",
    "personas",
    "seed",
    "days",
    "start",
    "persons",
    "locales",
    "behaviour",
    "brand",
    "network",
    "households",
    "people",
    "identity",
    "campaigns",
    "journeys",
    "programme",
    "channels",  # costs per channel, read by sim.analysis.metrics_config
    "metrics",
)
BEHAVIOUR_KEYS = ("partner_device_use", "cookie_reset_per_day")
BRAND_KEYS = ("category",)
NETWORK_KEYS = ("carriers", "carrier_pool", "campus_pool", "travel_pool", "employer_size")


@dataclass(frozen=True)
class HouseholdTemplate:
    kind: str
    weight: float
    members: tuple[dict[str, float], ...]


@dataclass(frozen=True)
class NamedPerson:
    persona: str
    name: str | None
    household: str


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    path: Path
    seed: int
    days: int
    start: datetime
    persons: int
    personas: dict[str, Persona]
    households: tuple[HouseholdTemplate, ...]
    people: tuple[NamedPerson, ...]
    locales: dict[str, float]
    network: NetworkPlan
    partner_device_use: float
    cookie_reset_per_day: float
    brand: str = "retail"
    identity: dict[str, Any] = field(default_factory=dict)
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    journeys: list[dict[str, Any]] = field(default_factory=list)
    programme: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def with_overrides(
        self, persons: int | None = None, days: int | None = None, seed: int | None = None
    ) -> Scenario:
        from dataclasses import replace

        return replace(
            self,
            persons=self.persons if persons is None else persons,
            days=self.days if days is None else days,
            seed=self.seed if seed is None else seed,
        )


def _start(reader: Reader, data: dict[str, Any]) -> datetime:
    text = data.get("start", "2026-11-02")
    try:
        day = date.fromisoformat(str(text))
    except ValueError:
        reader.fail("start", 'a date "YYYY-MM-DD"', text)
        day = date(2026, 11, 2)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _households(
    reader: Reader, data: dict[str, Any], personas: dict[str, Persona]
) -> tuple[HouseholdTemplate, ...]:
    raw = data.get("households", [])
    if not isinstance(raw, list):
        reader.fail("households", "an array of tables [[households]]", raw)
        return ()
    out = []
    for i, item in enumerate(raw):
        where = f"households[{i}]."
        item = item if isinstance(item, dict) else {}
        reader.known(item, ("kind", "weight", "members"), where)
        members_raw = item.get("members")
        if not isinstance(members_raw, list) or not members_raw:
            reader.fail(
                f"{where}members",
                "a non-empty array of { from = { persona = weight } }",
                members_raw,
            )
            members_raw = []
        members = []
        for j, member in enumerate(members_raw):
            reader.known(member, ("from",), f"{where}members[{j}].")
            mix = reader.weights(
                member if isinstance(member, dict) else {},
                "from",
                f"{where}members[{j}].",
                set(personas),
            )
            members.append(mix)
        out.append(
            HouseholdTemplate(
                kind=reader.text(item, "kind", where),
                weight=reader.probability(item, "weight", where),
                members=tuple(members),
            )
        )
    return tuple(out)


def _people(
    reader: Reader, data: dict[str, Any], personas: dict[str, Persona]
) -> tuple[NamedPerson, ...]:
    raw = data.get("people", [])
    if not isinstance(raw, list):
        reader.fail("people", "an array of tables [[people]]", raw)
        return ()
    out = []
    for i, item in enumerate(raw):
        where = f"people[{i}]."
        item = item if isinstance(item, dict) else {}
        reader.known(item, ("persona", "name", "household"), where)
        persona = reader.text(item, "persona", where)
        if persona and persona not in personas:
            reader.fail(f"{where}persona", f"one of {sorted(personas)}", persona)
        name = item.get("name")
        out.append(
            NamedPerson(
                persona,
                name if isinstance(name, str) else None,
                str(item.get("household", f"h{i}")),
            )
        )
    return tuple(out)


def _network(reader: Reader, data: dict[str, Any]) -> NetworkPlan:
    table = reader.table(data, "network", "", required=False)
    default = NetworkPlan()
    return NetworkPlan(
        carriers=reader.integer(table, "carriers", "network.", 1, 50, default.carriers),
        carrier_pool=reader.integer(
            table, "carrier_pool", "network.", 1, 100000, default.carrier_pool
        ),
        campus_pool=reader.integer(table, "campus_pool", "network.", 1, 10000, default.campus_pool),
        travel_pool=reader.integer(table, "travel_pool", "network.", 1, 10000, default.travel_pool),
        employer_size=reader.integer(
            table, "employer_size", "network.", 1, 100000, default.employer_size
        ),
    )


def _brand(reader: Reader, data: dict[str, Any]) -> str:
    """The brand's category (``[brand] category = "retail"``), one of ``data/brands.toml``."""
    from sim.world.brand import categories

    table = reader.table(data, "brand", "", required=False)
    reader.known(table, BRAND_KEYS, "brand.")
    name = table.get("category", "retail")
    known = sorted(categories())
    if name not in known:
        reader.fail("brand.category", f"one of {', '.join(known)}", name)
        return "retail"
    return str(name)


def parse_scenario(data: dict[str, Any], path: Path, personas: dict[str, Persona]) -> Scenario:
    reader = Reader(path)
    for key, value in data.items():
        if isinstance(value, dict | list) and key not in (
            "identity",
            "campaigns",
            "journeys",
            "programme",
        ):
            reader.check_provenance(value, f"{key}.")
    reader.known(data, SCENARIO_KEYS, "")
    reader.known(data.get("behaviour", {}), BEHAVIOUR_KEYS, "behaviour.")
    reader.known(data.get("network", {}), NETWORK_KEYS, "network.")
    behaviour = reader.table(data, "behaviour", "", required=False)
    households = _households(reader, data, personas)
    people = _people(reader, data, personas)
    if not households and not people:
        reader.fail("households", "[[households]] templates or [[people]] entries")
    locales = reader.weights(data, "locales", "") if "locales" in data else {}
    _placeable(reader, locales, households, people, personas)
    scenario = Scenario(
        name=reader.text(data, "name", ""),
        description=str(data.get("description", "")),
        path=path,
        seed=reader.integer(data, "seed", "", 0, 2**63 - 1, 1),
        days=reader.integer(data, "days", "", 1, 366, 7),
        start=_start(reader, data),
        persons=reader.integer(data, "persons", "", 0, 10_000_000, len(people)),
        personas=personas,
        households=households,
        people=people,
        locales=locales,
        network=_network(reader, data),
        partner_device_use=reader.probability(behaviour, "partner_device_use", "behaviour.", 0.0),
        cookie_reset_per_day=reader.probability(
            behaviour, "cookie_reset_per_day", "behaviour.", 0.0
        ),
        brand=_brand(reader, data),
        identity=dict(data.get("identity", {}))
        if isinstance(data.get("identity", {}), dict)
        else {},
        campaigns=list(data.get("campaigns", []))
        if isinstance(data.get("campaigns", []), list)
        else [],
        journeys=list(data.get("journeys", []))
        if isinstance(data.get("journeys", []), list)
        else [],
        programme=reader.table(data, "programme", "", required=False),
        raw=data,
    )
    if scenario.persons < 1 and not people:
        reader.fail("persons", "at least 1 person (or [[people]] entries)", scenario.persons)
    reader.raise_if_any()
    return scenario


def _placeable(
    reader: Reader,
    locales: dict[str, float],
    households: tuple[HouseholdTemplate, ...],
    people: tuple[NamedPerson, ...],
    personas: dict[str, Persona],
) -> None:
    """Every household can be placed: its locale keeps a known clock, or its first member names one.

    A household lives on its first member's zone mix, else on its locale's
    (the census states for en_US, the one zone of the others); a locale with
    neither would only fail once the households are drawn, in a worker.
    """
    firsts = {name for h in households if h.members for name in h.members[0]}
    firsts |= {p.persona for p in people}
    for name in sorted(firsts):
        persona = personas.get(name)
        if persona is None:
            continue  # _households and _people name the unknown persona
        for locale in sorted(locales or persona.locales):
            problem = placement_problem(locale, persona.timezones)
            if problem is not None:
                key = f"locales.{locale}" if locales else f"persona {name}: locales.{locale}"
                reader.fail(key, f"{problem} (households of persona {name})", locale)


def personas_folder(path: Path, data: dict[str, Any]) -> Path:
    folder = data.get("personas")
    if isinstance(folder, str):
        return (path.parent / folder).resolve()
    return path.resolve().parent.parent / "personas"


def load_scenario(path: Path) -> Scenario:
    data = load_toml(path)
    personas = load_personas(personas_folder(path, data))
    return parse_scenario(data, path, personas)
