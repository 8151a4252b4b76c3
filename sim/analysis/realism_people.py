"""Who the simulated people are, beside the published surveys: ownership, commute, place.

A census taker's check on the drawn population: of the simulated American
adults, how many own a smartphone, wear a watch, have a tablet or a computer,
live with a smart speaker; how many American workers ride public transport;
and whether every household lives in one place. Each figure is counted from
the run's own tables (``people.jsonl`` and ``truth.jsonl.gz``: what the
people turned out to own and do), never read back from the input rates.

The published value, band and source of each row, and the reason for its
band, are data (``data/published.toml``, under the row's name); what is
counted, and over whom, is defined here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.analysis.figures import Figure, wilson
from sim.analysis.published import PUBLISHED, Published, require

Row = Mapping[str, Any]
ADULT = 18


@dataclass(frozen=True)
class Survey:
    """An ownership question: which device kind, and how a person counts as having one."""

    name: str  # the row's name, in summary.json and data/published.toml
    kind: str
    scope: (
        str  # "own": a device of their own; "use": among their devices; "home": in their household
    )


SURVEYS = (
    Survey("US adults owning a smartphone", "phone", "own"),
    Survey("US adults wearing a smartwatch or fitness tracker", "watch", "own"),
    Survey("US adults with a smart speaker at home", "speaker", "home"),
    Survey("US adults owning a tablet", "tablet", "use"),
    Survey("US adults owning a desktop or laptop computer", "laptop", "use"),
)
SCOPES = {
    "own": "with a {kind} of their own (truth: the device's person_id is theirs)",
    "use": "with a {kind} among their devices, their own or the household's",
    "home": "living in a household with a {kind} (truth: a device of the household)",
}
TRANSIT = "US workers commuting by public transport"
SPANNING = "Households spread over two or more places"
NAMES = (*(s.name for s in SURVEYS), TRANSIT, SPANNING)  # the rows, in summary.json's order


def people_figures(
    people: Iterable[Row], truth: Iterable[Row], path: Path = PUBLISHED
) -> list[Figure]:
    """The realism rows about the population, from ``people.jsonl`` and the truth rows.

    Their published values and bands come from ``path``; a row missing
    there fails before anything is counted.
    """
    references = require(NAMES, path, share=True)
    people = list(people)
    devices = Devices(truth)
    us_adults = [p for p in people if p.get("country") == "US" and int(p.get("age", 0)) >= ADULT]
    rows = [ownership(s, us_adults, devices, references[s.name]) for s in SURVEYS]
    rows.append(transit(people, references[TRANSIT]))
    rows.append(spanning(people, references[SPANNING]))
    return rows


class Devices:
    """The truth rows as the questions need them: whose device, which household has what."""

    def __init__(self, truth: Iterable[Row]) -> None:
        self.kind: dict[str, str] = {}
        self.owned: dict[str, set[str]] = defaultdict(set)
        self.at_home: dict[str, set[str]] = defaultdict(set)
        for row in truth:
            kind = str(row.get("device_type"))
            self.kind[str(row.get("device_id"))] = kind
            self.at_home[str(row.get("household_id"))].add(kind)
            if row.get("person_id") is not None:
                self.owned[str(row["person_id"])].add(kind)

    def has(self, person: Row, kind: str, scope: str) -> bool:
        if scope == "own":
            return kind in self.owned.get(str(person["person_id"]), set())
        if scope == "home":
            return kind in self.at_home.get(str(person["household_id"]), set())
        return any(self.kind.get(str(d)) == kind for d in person.get("devices", ()))


def ownership(survey: Survey, adults: list[Row], devices: Devices, reference: Published) -> Figure:
    count = sum(devices.has(p, survey.kind, survey.scope) for p in adults)
    return Figure(
        name=survey.name,
        definition=(
            f"share of simulated US adults (18+, people.jsonl) "
            f"{SCOPES[survey.scope].format(kind=survey.kind)}"
        ),
        value=count / len(adults) if adults else None,
        published=reference.published,
        low=reference.low,
        high=reference.high,
        source=reference.source,
        n=len(adults),
        interval=wilson(count, len(adults)),
    )


def transit(people: list[Row], reference: Published) -> Figure:
    workers = [p for p in people if p.get("country") == "US" and p.get("commute")]
    riders = sum(p["commute"] == "transit" for p in workers)
    return Figure(
        name=TRANSIT,
        definition=(
            "share of simulated US workers (people.jsonl rows with a commute mode, working from"
            " home included) whose way to work is public transport; the ACS's universe is the"
            " same: workers 16+ by the means of transportation they usually took to work last"
            " week, those who worked from home counted among them"
        ),
        value=riders / len(workers) if workers else None,
        published=reference.published,
        low=reference.low,
        high=reference.high,
        source=reference.source,
        n=len(workers),
        interval=wilson(riders, len(workers)),
    )


def spanning(people: list[Row], reference: Published) -> Figure:
    places: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
    sizes: dict[str, int] = defaultdict(int)
    for person in people:
        household = str(person["household_id"])
        sizes[household] += 1
        places[household].add((person.get("timezone"), person.get("region"), person.get("city")))
    shared = [h for h, n in sizes.items() if n > 1]
    split = sum(len(places[h]) > 1 for h in shared)
    return Figure(
        name=SPANNING,
        definition=(
            "share of simulated multi-person households whose members do not all share one"
            " time zone, region and city (people.jsonl)"
        ),
        value=split / len(shared) if shared else None,
        published=reference.published,
        low=reference.low,
        high=reference.high,
        source=reference.source,
        n=len(shared),
        interval=wilson(split, len(shared)),
    )
