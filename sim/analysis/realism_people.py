"""Who the simulated people are, beside the published surveys: ownership, commute, place.

A census taker's check on the drawn population: of the simulated American
adults, how many own a smartphone, wear a watch, have a tablet or a computer,
live with a smart speaker; how many phone owners carry an iPhone; how many American workers ride public transport;
and whether every household lives in one place. Each figure is counted from
the run's own tables (``people.jsonl`` and ``truth.jsonl.gz``: what the
people turned out to own and do), never read back from the input rates.

Bands: the surveys publish a point estimate; the band is that estimate plus
or minus two points, about the 95% sampling margin of surveys of a few
thousand adults (Pew's national surveys, NPR-Edison). The commute band is the
range the Census Bureau's American Community Survey published in 2019 and 2022;
the iPhone band runs from an installed-base count (Counterpoint) to a web
page-view count (StatCounter), two ways of measuring the same share.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.analysis.figures import Figure, wilson

Row = Mapping[str, Any]
ADULT = 18
MARGIN = 0.02
MARGIN_NOTE = "band: published value +/- 2 points, about the survey's 95% sampling margin"


@dataclass(frozen=True)
class Survey:
    """A published ownership figure: which device kind, how it is owned, and where it comes from."""

    name: str
    kind: str
    scope: (
        str  # "own": a device of their own; "use": among their devices; "home": in their household
    )
    published: float
    source: str


SURVEYS = (
    Survey(
        "US adults owning a smartphone",
        "phone",
        "own",
        0.91,
        "Pew Research Center, Mobile Fact Sheet (survey Feb-Jun 2024): 91% of U.S. adults",
    ),
    Survey(
        "US adults wearing a smartwatch or fitness tracker",
        "watch",
        "own",
        0.21,
        "Pew Research Center (survey June 2019, published Jan 2020): 21% of U.S. adults",
    ),
    Survey(
        "US adults with a smart speaker at home",
        "speaker",
        "home",
        0.35,
        "NPR and Edison Research, The Smart Audio Report (2022): 35% of Americans 18+",
    ),
    Survey(
        "US adults owning a tablet",
        "tablet",
        "use",
        0.53,
        "Pew Research Center, Mobile Fact Sheet (survey Jan-Feb 2021): 53% of U.S. adults",
    ),
    Survey(
        "US adults owning a desktop or laptop computer",
        "laptop",
        "use",
        0.77,
        "Pew Research Center, Mobile Fact Sheet (survey Jan-Feb 2021): 77% of U.S. adults",
    ),
)
SCOPES = {
    "own": "with a {kind} of their own (truth: the device's person_id is theirs)",
    "use": "with a {kind} among their devices, their own or the household's",
    "home": "living in a household with a {kind} (truth: a device of the household)",
}
TRANSIT_SOURCE = (
    "U.S. Census Bureau, American Community Survey: public transportation 3.1% of workers"
    " (2022) and 5.0% (2019, ACS-48); band 2022-2019"
)
IPHONE_SOURCE = (
    "Counterpoint Research (reported by the Financial Times, September 2022): iPhones just over"
    " 50% of the smartphones in active use in the U.S.; StatCounter Global Stats, mobile OS"
    " market share United States (2023-24): iOS about 57% of mobile page views; band from the"
    " installed-base count to the page-view count"
)
PLACE_SOURCE = (
    "definition: a household shares one front door and one router, so one city, region and"
    " time zone (target zero)"
)


def people_figures(people: Iterable[Row], truth: Iterable[Row]) -> list[Figure]:
    """The realism rows about the population, from ``people.jsonl`` and the truth rows."""
    people = list(people)
    devices = Devices(truth)
    us_adults = [p for p in people if p.get("country") == "US" and int(p.get("age", 0)) >= ADULT]
    rows = [ownership(s, us_adults, devices) for s in SURVEYS]
    rows.append(iphones(us_adults, devices))
    rows.append(transit(people))
    rows.append(spanning(people))
    return rows


class Devices:
    """The truth rows as the questions need them: whose device, which household has what."""

    def __init__(self, truth: Iterable[Row]) -> None:
        self.kind: dict[str, str] = {}
        self.owned: dict[str, set[str]] = defaultdict(set)
        self.phone_os: dict[str, set[str]] = defaultdict(set)  # person -> their phones' os
        self.at_home: dict[str, set[str]] = defaultdict(set)
        for row in truth:
            kind = str(row.get("device_type"))
            self.kind[str(row.get("device_id"))] = kind
            self.at_home[str(row.get("household_id"))].add(kind)
            if row.get("person_id") is not None:
                self.owned[str(row["person_id"])].add(kind)
                if kind == "phone":
                    self.phone_os[str(row["person_id"])].add(str(row.get("os")))

    def has(self, person: Row, kind: str, scope: str) -> bool:
        if scope == "own":
            return kind in self.owned.get(str(person["person_id"]), set())
        if scope == "home":
            return kind in self.at_home.get(str(person["household_id"]), set())
        return any(self.kind.get(str(d)) == kind for d in person.get("devices", ()))


def ownership(survey: Survey, adults: list[Row], devices: Devices) -> Figure:
    count = sum(devices.has(p, survey.kind, survey.scope) for p in adults)
    return Figure(
        name=survey.name,
        definition=(
            f"share of simulated US adults (18+, people.jsonl) "
            f"{SCOPES[survey.scope].format(kind=survey.kind)}"
        ),
        value=count / len(adults) if adults else None,
        published=survey.published,
        low=round(survey.published - MARGIN, 4),
        high=round(survey.published + MARGIN, 4),
        source=f"{survey.source}; {MARGIN_NOTE}",
        n=len(adults),
        interval=wilson(count, len(adults)),
    )


def iphones(adults: list[Row], devices: Devices) -> Figure:
    """Of the US adults with a phone of their own, the share whose phone is an iPhone."""
    owners = [devices.phone_os[str(p["person_id"])] for p in adults]
    owners = [systems for systems in owners if systems]
    count = sum("iOS" in systems for systems in owners)
    return Figure(
        name="US adult smartphone owners with an iPhone",
        definition=(
            "share of simulated US adults (18+, people.jsonl) with a phone of their own whose"
            " phone runs iOS (truth: the device's os)"
        ),
        value=count / len(owners) if owners else None,
        published=0.5,
        low=0.5,
        high=0.57,
        source=IPHONE_SOURCE,
        n=len(owners),
        interval=wilson(count, len(owners)),
    )


def transit(people: list[Row]) -> Figure:
    workers = [p for p in people if p.get("country") == "US" and p.get("commute")]
    riders = sum(p["commute"] == "transit" for p in workers)
    return Figure(
        name="US workers commuting by public transport",
        definition=(
            "share of simulated US workers (people.jsonl rows with a commute mode, working from"
            " home included) whose way to work is public transport; the ACS's universe is the"
            " same: workers 16+ by the means of transportation they usually took to work last"
            " week, those who worked from home counted among them"
        ),
        value=riders / len(workers) if workers else None,
        published=0.031,
        low=0.03,
        high=0.05,
        source=TRANSIT_SOURCE,
        n=len(workers),
        interval=wilson(riders, len(workers)),
    )


def spanning(people: list[Row]) -> Figure:
    places: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
    sizes: dict[str, int] = defaultdict(int)
    for person in people:
        household = str(person["household_id"])
        sizes[household] += 1
        places[household].add((person.get("timezone"), person.get("region"), person.get("city")))
    shared = [h for h, n in sizes.items() if n > 1]
    split = sum(len(places[h]) > 1 for h in shared)
    return Figure(
        name="Households spread over two or more places",
        definition=(
            "share of simulated multi-person households whose members do not all share one"
            " time zone, region and city (people.jsonl)"
        ),
        value=split / len(shared) if shared else None,
        published=0.0,
        low=0.0,
        high=0.0,
        source=PLACE_SOURCE,
        n=len(shared),
        interval=wilson(split, len(shared)),
    )
