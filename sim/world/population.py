"""Drawing the population: households from templates, people from personas.

Like a census enumerator in reverse: pick a household shape (single, couple,
family, ...) by its weight, fill each seat with a persona from that seat's
mix, then make each person particular with Faker in the household's locale.
Every household draws from its own random stream, so household 17 is the
same whether the run has 100 people or 100,000.

A household lives in one place: one city, one region and one time zone for
everyone behind its front door. What each person owns is drawn from the
published rates for their country and age (``data/ownership.toml``) times
their archetype's propensity; a TV or a speaker is drawn once per household.
The people a scenario names (Mason, Susan, Kaylee) keep exactly the devices
their persona lists. Each worker draws how they get to work from their
country's census shares, and each watch and car draws its network path.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from functools import cache
from itertools import accumulate
from typing import TypeVar

import numpy as np
from faker import Faker

from sim.errors import ConfigError
from sim.world.brand import device_use
from sim.world.census import Census, Paths, load_census
from sim.world.chronotype import chronotype
from sim.world.devices import Device, uuid_of
from sim.world.faking import Calls, calls, quicken
from sim.world.network import Addresses, public_ip
from sim.world.numpy_draws import NumpyDraws
from sim.world.people import Household, Person
from sim.world.persona import DeviceSpec, Persona
from sim.world.platforms import kit
from sim.world.residence import LOCALE_ZONES, load_residence, unplaceable_zone
from sim.world.rng import Streams
from sim.world.scenario import HouseholdTemplate, NamedPerson, Scenario

COUNTRY = {
    "en_US": "US",
    "fr_FR": "FR",
    "ru_RU": "RU",
    "pl_PL": "PL",
    "ko_KR": "KR",
    "en_GB": "GB",
    "de_DE": "DE",
}
T = TypeVar("T")
EMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me")
PERSON_STREAMS = (
    "person",
    "chronotype",
    "brand",
    "platform",
    "restless",
)  # asked for by (name, person id), most people (restless: every adult, on the first night)
SHAPES_AHEAD = 1024  # household-shape streams made at a time (Streams.many)


@cache
def faker_for(locale: str) -> Faker:
    """One Faker per locale, reseeded per person, drawing with :class:`RememberedWeights`."""
    fake = Faker(locale)
    fake.random = RememberedWeights()  # type: ignore[attr-defined]  # a property the stubs omit
    return quicken(fake)


@cache
def calls_for(locale: str) -> Calls:
    """The locale's Faker (:func:`faker_for`), its methods bound once."""
    return calls(faker_for(locale))


class RememberedWeights(random.Random):
    """``random.Random`` whose weighted ``choices`` add up each list's weights once.

    Faker's American first and last names are weighted lists of thousands of
    names; ``random.choices`` adds the weights up again for every name drawn.
    The sums are kept per list (checked against the weights handed in), and
    the draw itself is ``random.choices``'s own, so every name is the same.
    """

    def __init__(self) -> None:
        super().__init__()
        self._sums: dict[int, tuple[object, Sequence[float], list[float]]] = {}

    def choices(  # type: ignore[override]
        self,
        population: Sequence[T],
        weights: Sequence[float] | None = None,
        *,
        cum_weights: Sequence[float] | None = None,
        k: int = 1,
    ) -> list[T]:
        # NOTE: Faker's weighted picks with the weights' running sums kept per list (test_speed_tricks.py).
        if weights is None or cum_weights is not None:
            return super().choices(population, weights, cum_weights=cum_weights, k=k)
        found = self._sums.get(id(population))
        if found is None or found[0] is not population or found[1] != weights:
            found = self._sums[id(population)] = (population, weights, list(accumulate(weights)))
        return super().choices(population, cum_weights=found[2], k=k)


def pick(rng: np.random.Generator | NumpyDraws, weights: dict[str, float]) -> str:
    """One name drawn by weight: ``rng.choice(len(names), p=probs / probs.sum())``.

    The same draw as numpy's (one uniform against the normalised cumulative
    weights, searched from the right), with the cumulative weights worked
    out once per mix rather than once per draw.
    """
    # NOTE: numpy's Generator.choice(p=...) without its per-call checks (test_population_draws.py).
    key = tuple(sorted(weights.items()))
    table = _CUMULATIVE.get(key)
    if table is None:
        names = [name for name, _ in key]
        probs = np.array([weight for _, weight in key])
        if not (probs >= 0).all() or not probs.sum() > 0:  # numpy's own words say what is wrong
            np.random.default_rng(0).choice(len(names), p=probs / probs.sum())
            raise ValueError(f"weights to draw from must be non-negative with a sum: {weights}")
        cdf = (probs / probs.sum()).cumsum()
        cdf /= cdf[-1]
        table = _CUMULATIVE[key] = (names, cdf.tolist())
    names, cumulative = table
    return names[bisect_right(cumulative, rng.random())]


_CUMULATIVE: dict[tuple[tuple[str, float], ...], tuple[list[str], list[float]]] = {}


def pick_domain(rng: NumpyDraws) -> str:
    return EMAIL_DOMAINS[rng.integers(len(EMAIL_DOMAINS))]


def ascii_slug(text: str, rng: NumpyDraws) -> str:
    """An e-mail local part: the name if it is ASCII, else a stable transliteration stand-in."""
    slug = "".join(c for c in text.lower() if c.isascii() and (c.isalnum() or c == " "))
    slug = ".".join(slug.split())
    if len(slug) < 3:
        slug = "user" + hashlib.sha1(text.encode()).hexdigest()[:6]
    return f"{slug}{rng.integers(1, 999)}"


def make_device(
    spec: DeviceSpec,
    household: Household,
    owner: Person | None,
    locale: str,
    zone: str,
    rng: NumpyDraws,
) -> Device:
    device_id, install = rng.hex_ids(16, 32)
    device = Device(
        id=device_id,
        spec=spec,
        household_id=household.id,
        owner_id=owner.id if owner else None,
        anonymous_id=uuid_of(install),
        locale=locale,
        timezone=zone,
        will_log_in=bool(rng.random() < spec.logs_in),
    )
    device.anonymous_ids.append(device.anonymous_id)
    return device


def make_person(
    persona: Persona,
    household: Household,
    index: int,
    rng: NumpyDraws,
    streams: Streams,
    census: Census,
    name: str | None,
) -> Person:
    locale = household.locale
    fake = calls_for(locale)
    fake.seed_instance(rng.integers(0, 2**31))
    full_name = name or fake.name()
    country = COUNTRY.get(locale, locale[-2:])
    person_id = f"{household.id}-p{index}"
    has_account = bool(rng.random() < persona.existing_account)
    person = Person(
        id=person_id,
        household_id=household.id,
        persona=persona,
        name=full_name,
        email=f"{ascii_slug(full_name, rng)}@{pick_domain(rng)}",
        phone=fake.phone_number(),
        age=rng.integers(persona.age_min, persona.age_max + 1),
        gender=pick(rng, persona.genders),
        locale=locale,
        timezone=household.timezone,
        city=household.city,
        region=household.region,
        country=country,
        carrier=rng.integers(0, 1 << 16),
        employer=rng.integers(0, 1 << 30),
        user_id=f"u-{rng.hex_ids(12)[0]}",
        has_account=has_account,
        will_sign_up=has_account or bool(rng.random() < persona.signup),
        opt_in={c: bool(rng.random() < p) for c, p in persona.opt_in.items()},
        rng=streams.get("person", person_id),
        commute=pick(rng, census.modes(country)) if persona.has_commute() else None,
        named=bool(name),
    )
    person.chronotype = draw_chronotype(person, streams)
    return person


def draw_chronotype(person: Person, streams: Streams) -> int:
    """Minutes a person's bedtime lies after their routine's: their age's and their own.

    Drawn from a stream of its own, so every other draw of the population
    is the same with or without it. People a scenario names keep the
    schedule their seed describes (0).
    """
    if person.named:
        return 0
    use = device_use()
    return chronotype(
        streams.get("chronotype", person.id),
        person.persona,
        person.age,
        person.gender,
        use.chronotype_sd,
        use.chronotype_max,
        use.sleep_age,
    )


def place_household(rng: NumpyDraws, persona: Persona, locale: str) -> tuple[str, str, str]:
    """(time zone, city, region) of a household: one place for everyone behind its front door.

    An American household draws its state by the state's share of the 2020
    census (``data/residence.toml``) and keeps that state's clock, unless the
    first member's persona names a zone mix of its own (``[timezones]``): then
    the zone is drawn from that mix and the state, by population, from the
    states on its clock. A household of another locale lives on its
    country's one zone. The city is Faker's, in the household's locale.
    """
    zone, region = place_by_zone(rng, persona, locale)
    fake = calls_for(locale)
    fake.seed_instance(rng.integers(0, 2**31))
    city = fake.city()
    return zone, city, COUNTRY.get(locale, locale[-2:]) if region is None else region


def place_by_zone(rng: NumpyDraws, persona: Persona, locale: str) -> tuple[str, str | None]:
    """The household's time zone and, for an American one, its state (None: no state drawn)."""
    if locale == "en_US":
        us = load_residence()["US"]
        if not persona.timezones:
            state = pick(rng, us.shares)
            return us.states[state].zone, state
        zone = pick(rng, persona.timezones)
        states = us.in_zone(zone)
        if not states:
            # the scenario's load checks this (sim.world.scenario); a guard for direct callers
            raise ConfigError([f"persona {persona.name}: expected {unplaceable_zone(zone)}"])
        return zone, pick(rng, states)
    if locale in LOCALE_ZONES:
        return LOCALE_ZONES[locale], None
    if not persona.timezones:
        raise ConfigError(
            [
                f"persona {persona.name}: timezones: expected a zone mix for locale {locale}"
                f" (no census zone is known for it; known: en_US, {', '.join(LOCALE_ZONES)})"
            ]
        )
    return pick(rng, persona.timezones), None


def owns(person: Person, kind: str, rng: NumpyDraws, census: Census, fixed: bool) -> bool:
    """Does this person own a ``kind``? The published rate for their country and age x propensity."""
    propensities = person.persona.ownership
    if fixed or propensities is None:
        return True
    rate = census.ownership.rate(person.country, kind, person.age) * propensities[kind]
    return bool(rng.random() < min(1.0, rate))


def equip(
    household: Household, rng: NumpyDraws, census: Census, fixed: bool, streams: Streams
) -> None:
    """Draw each member's devices; shared ones are drawn once per household and type.

    Each drawn person's own devices run the platform drawn for them (platforms.py).
    """
    shared: dict[str, Device | None] = {}
    for person in household.members:
        specs = person.persona.devices
        if not fixed:
            specs = kit(
                person.persona, person.country, person.age, streams.get("platform", person.id)
            )
        kinds = dict.fromkeys(s.type for s in specs if not s.shared)
        personal = {kind for kind in kinds if owns(person, kind, rng, census, fixed)}
        for spec in specs:
            if spec.shared:
                if spec.type not in shared:
                    keep = owns(person, spec.type, rng, census, fixed)
                    shared[spec.type] = (
                        make_device(spec, household, None, person.locale, person.timezone, rng)
                        if keep
                        else None
                    )
                found = shared[spec.type]
                if found is None:
                    continue
                device = found
            elif spec.type in personal:
                device = make_device(spec, household, person, person.locale, person.timezone, rng)
            else:
                continue
            person.devices.append(device)
            device.used_by.append(person.id)
        connect(person, rng, census.paths)
    household.shared_devices = [d for d in shared.values() if d is not None]


def connect(person: Person, rng: NumpyDraws, paths: Paths) -> None:
    """Draw how each watch and car reaches the brand; pair them with the person's own phone.

    A projecting car (CarPlay, Android Auto) is the phone's app on the car's
    screen: without a phone there is nothing to project, so the car is not
    one of the devices the brand can see.
    """
    phones = [d for d in person.devices if d.type == "phone" and not d.shared]
    phone = next((d for d in phones if d.spec.label == "personal"), phones[0] if phones else None)
    for device in list(person.devices):
        if device.type == "watch" and not device.shared:
            device.path = device.spec.path or pick(rng, paths.watch)
            device.relay = phone
        elif device.type == "car" and not device.shared:
            device.path = device.spec.path or pick(rng, paths.car)
            device.carrier = rng.integers(0, 1 << 16)
            if device.path == "projection":
                if phone is None:
                    person.devices.remove(device)
                    continue
                device.relay = phone
                device.installed = True


def household_draws(streams: Streams, hid: str) -> NumpyDraws:
    """The household's stream, read by its household alone while it is drawn, then dropped."""
    # NOTE: numpy's scalar draws worked out in Python, a block of raw output at a time (test_build_speed.py).
    return NumpyDraws(streams.get("household", hid).bit_generator)


def new_household(
    hid: str,
    personas: list[tuple[Persona, str | None]],
    scenario: Scenario,
    streams: Streams,
    census: Census,
    fixed: bool = False,
) -> Household:
    """One household: its place, its people, and what they own (``fixed``: as the personas list)."""
    rng = household_draws(streams, hid)
    first = personas[0][0]
    locale = pick(rng, scenario.locales) if scenario.locales else pick(rng, first.locales)
    zone, city, region = place_household(rng, first, locale)
    household = Household(
        id=hid,
        home_ip=public_ip(rng),
        locale=locale,
        timezone=zone,
        city=city,
        region=region,
    )
    for index, (persona, name) in enumerate(personas):
        household.members.append(make_person(persona, household, index, rng, streams, census, name))
    equip(household, rng, census, fixed, streams)
    return household


def household_shapes(
    scenario: Scenario, remaining: Scenario, streams: Streams
) -> list[tuple[str, ...]]:
    """The persona names of each drawn household (``remaining``: the scenario less its named people).

    Every worker draws every household's shape (a household's index depends
    on the sizes of those before it) and keeps its own share. A process that
    builds several shares of one run (one after another) draws them once:
    the persona names of the last scenario drawn are kept.
    """
    # NOTE: the shapes of a run drawn once per process, not once per shard (test_population_draws.py).
    global _SHAPES
    key = (scenario, streams.seed, remaining.persons)
    if _SHAPES is None or _SHAPES[0][0] is not scenario or _SHAPES[0][1:] != key[1:]:
        _SHAPES = (key, [tuple(shape) for shape in _from_templates(remaining, streams)])
    return _SHAPES[1]


_SHAPES: tuple[tuple[Scenario, int, int], list[tuple[str, ...]]] | None = None


def draw_shapes(scenario: Scenario) -> None:
    """Draw (and keep) the run's household shapes in this process before any shard is built.

    A worker that builds each shard in a child process of its own draws them
    here once, so every child starts with them (:func:`household_shapes`)."""
    if scenario.households:
        household_shapes(scenario, drawn_part(scenario), Streams(scenario.seed))


def drawn_part(scenario: Scenario) -> Scenario:
    """The scenario less its named people: the persons drawn from the household templates."""
    return scenario.with_overrides(persons=max(0, scenario.persons - len(scenario.people)))


def _from_templates(scenario: Scenario, streams: Streams) -> Iterator[list[str]]:
    """Each drawn household's persona names, household by household."""
    weights = {str(i): t.weight for i, t in enumerate(scenario.households)}
    made = 0
    index = 0
    rngs: list[np.random.Generator] = []
    while made < scenario.persons:
        if not rngs:  # the next households' streams, made together, dealt from the end
            rngs = streams.many("household-shape", range(index, index + SHAPES_AHEAD))[::-1]
        rng = rngs.pop()
        template: HouseholdTemplate = scenario.households[int(pick(rng, weights))]
        seats = template.members[: scenario.persons - made]
        members = [pick(rng, m) for m in seats]
        made += len(members)
        index += 1
        yield members


def _from_people(
    people: tuple[NamedPerson, ...], scenario: Scenario
) -> Iterator[list[tuple[Persona, str | None]]]:
    groups: dict[str, list[tuple[Persona, str | None]]] = {}
    for named in people:
        groups.setdefault(named.household, []).append(
            (scenario.personas[named.persona], named.name)
        )
    yield from groups.values()


def populate(
    scenario: Scenario,
    streams: Streams,
    addresses: Addresses,
    shard: tuple[int, int] = (0, 1),
    census: Census | None = None,
) -> list[Household]:
    """The scenario's households (named people first, then the drawn population).

    ``shard = (k, n)`` keeps every n-th household starting at k, so n worker
    processes can each build and simulate their own share of the same world.
    Named people keep their personas' devices; the drawn population draws them.
    """
    census = census or load_census()
    named = list(_from_people(scenario.people, scenario))
    remaining = drawn_part(scenario)
    drawn = household_shapes(scenario, remaining, streams) if scenario.households else []
    k, n = shard
    own = []
    for index in range(k, len(named) + len(drawn), n):  # a persona looked up for our share only
        if index < len(named):
            members = named[index]
        else:
            members = [(remaining.personas[name], None) for name in drawn[index - len(named)]]
        own.append((f"h{index:05d}", index, members))
    prepare_streams(streams, own)
    return [
        new_household(hid, members, scenario, streams, census, index < len(named))
        for hid, index, members in own
    ]


def prepare_streams(
    streams: Streams, own: list[tuple[str, int, list[tuple[Persona, str | None]]]]
) -> None:
    """Hash every stream the shard's households and people will ask for by name, in one pass."""
    # NOTE: per-household and per-person streams hashed together (Streams.prepare, test_speed_tricks.py).
    streams.prepare("household", [hid for hid, _, _ in own])
    people = [f"{hid}-p{seat}" for hid, _, members in own for seat in range(len(members))]
    for name in PERSON_STREAMS:
        streams.prepare(name, people)
