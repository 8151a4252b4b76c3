"""The drawn population: one place per household, ownership drawn, commute modes, network paths."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import sim.world.life as life
from sim.errors import ConfigError
from sim.world.census import MODES, load_census
from sim.world.devices import Device
from sim.world.people import Person
from sim.world.persona import parse_persona
from sim.world.residence import load_residence
from sim.world.routine import MODE_CONTEXT, plan_day
from sim.world.scenario import load_scenario
from sim.world.schema import load_toml
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]
SEEDED = {
    "Mason": ["phone", "tablet", "tv", "speaker"],
    "Susan": ["laptop", "phone", "phone", "tv"],
    "Kaylee": ["laptop", "watch", "phone", "car"],
}


def population(persons: int, days: int = 1, seed: int = 11) -> World:
    scenario = load_scenario(ROOT / "scenarios" / "population.toml")
    return World(scenario.with_overrides(persons=persons, days=days, seed=seed))


@pytest.fixture(scope="module")
def world() -> World:
    return population(1200)


def test_every_household_lives_in_one_time_zone_region_and_city(world: World) -> None:
    multi = [h for h in world.households if len(h.members) > 1]
    assert len(multi) > 100
    for household in world.households:
        places = {(p.timezone, p.region, p.city) for p in household.members}
        assert places == {(household.timezone, household.region, household.city)}
        assert len({p.country for p in household.members}) == 1
        for device in (d for p in household.members for d in p.devices):
            assert device.timezone == household.timezone
        if household.locale == "en_US":  # a state on the household's own clock
            assert load_residence()["US"].states[household.region].zone == household.timezone


def test_named_people_keep_the_devices_their_seed_gives_them() -> None:
    world = World(load_scenario(ROOT / "scenarios" / "day-in-the-life.toml"))
    for person in world.people():
        assert sorted(d.type for d in person.devices) == sorted(SEEDED[person.name])
    kaylee = next(p for p in world.people() if p.name == "Kaylee")
    assert next(d for d in kaylee.devices if d.type == "car").path == "projection"


def test_the_drawn_population_owns_by_published_rate_not_by_persona_list(world: World) -> None:
    people = list(world.people())
    listed = Counter(
        s.type for p in people for s in p.persona.devices if not s.shared and s.type == "phone"
    )
    owned = Counter(d.type for p in people for d in p.devices if d.owner_id == p.id)
    assert 0 < owned["phone"] < listed["phone"]  # some people do without a smartphone
    census = load_census()
    adults = [p for p in people if p.country == "US" and p.age >= 18]
    expected = sum(
        min(
            1.0,
            census.ownership.rate("US", "watch", p.age)
            * (p.persona.ownership or {}).get("watch", 0),
        )
        for p in adults
    )
    watches = sum(any(d.type == "watch" for d in p.devices) for p in adults)
    assert abs(watches - expected) < 4 * expected**0.5  # binomial: within four sigma
    teens = [p for p in people if p.age < 18]
    assert teens and not any(d.type == "car" for p in teens for d in p.devices)


def test_the_drawn_us_adults_have_the_age_mix_the_surveys_weight_to() -> None:
    """Pew's total is its age-band rates over the ACS age mix: the population must have that mix.

    With the mix wrong, every band rate right still adds up to another total
    (30-49-year-olds at 47% of adults made the smartphone share 92% against 91%).
    """
    census = load_census()
    people = population(4000, seed=5).people()
    adults = [p for p in people if p.country == "US" and p.age >= 18]
    bands = Counter(census.ownership.band(p.age) for p in adults)
    for band, share in census.ownership.age_mix["US"].items():
        assert abs(bands[band] / len(adults) - share) < 0.04, band


def test_household_devices_are_drawn_once_and_shared_by_the_members_who_use_them(
    world: World,
) -> None:
    for household in world.households:
        for device in household.shared_devices:
            users = [p for p in household.members if device in p.devices]
            assert users and sorted(device.used_by) == sorted(p.id for p in users)
        kinds = Counter(d.type for d in household.shared_devices)
        assert all(n == 1 for n in kinds.values())


def test_workers_draw_a_commute_mode_and_live_it(world: World) -> None:
    people = list(world.people())
    workers = [p for p in people if p.persona.has_commute()]
    assert workers and all(p.commute in MODES for p in workers)
    assert all(p.commute is None for p in people if not p.persona.has_commute())
    assert {p.commute for p in workers} == set(MODES)
    for person in workers[:60]:
        night = world.brand.use.work_night_sleep
        plan = plan_day(world.scenario.start, person, 0, person.rng, night)  # a Monday
        contexts = [block.context for _, _, block in plan]
        assert "commute" not in contexts
        assert MODE_CONTEXT[person.commute or ""] in contexts
        if person.commute == "home":
            assert "work.office" not in contexts
        if person.commute == "car":
            driving = [b for _, _, b in plan if b.context == "car.driving"]
            assert all(set(b.use) <= {"car"} for b in driving)


def test_a_persona_propensity_must_name_a_listed_device_and_cover_every_one() -> None:
    data = load_toml(ROOT / "personas" / "mason.toml")
    data["ownership"] = {"phone": 1.0, "watch": 2.0, "remark": "test"}
    with pytest.raises(ConfigError) as excinfo:
        parse_persona(data, "mason.toml")
    text = "\n".join(excinfo.value.problems)
    assert "mason.toml: ownership.watch: expected a device type the persona lists" in text
    assert "mason.toml: ownership.speaker: expected a propensity for every device type" in text


class Start:
    """One session's start: who, on what, the address shown, and the person's state then."""

    def __init__(
        self, person: Person, device: Device, context: dict[str, Any], phone_ip: str | None
    ) -> None:
        self.person = person
        self.device = device
        self.ip = str(context["ip"])
        self.sender = str(context["device"]["id"])
        self.phone_ip = phone_ip
        self.where = person.context
        self.ips = dict(person.ips)
        self.phone_away = person.phone_away


Started = list[Start]


@pytest.fixture(scope="module")
def started() -> Iterator[tuple[World, Started]]:
    """Every session of two days, with the address its device showed and the phone's address then.

    Logged by a panel (every pick-up a session), so watches and cars speak often enough to check.
    """
    scenario = load_scenario(ROOT / "scenarios" / "population.toml")
    world = World(replace(scenario.with_overrides(persons=600, days=2, seed=11), brand="panel"))
    seen: Started = []
    real = life.session

    def spy(world: World, person: Person, device: Device, day: int) -> float:
        phones = [d for d in person.devices if d.type == "phone" and not d.shared]
        phone = next((d for d in phones if d.spec.label == "personal"), None) or (
            phones[0] if phones else None
        )
        context = world.context_of(person, device)
        seen.append(Start(person, device, context, world.ip_of(person, phone) if phone else None))
        return real(world, person, device, day)

    life.session = spy  # type: ignore[assignment]
    try:
        life.play(world)
    finally:
        life.session = real  # type: ignore[assignment]
    yield world, seen


def test_a_tethered_watch_speaks_from_the_phone_address_of_the_moment(
    started: tuple[World, Started],
) -> None:
    _, seen = started
    tethered = [s for s in seen if s.device.type == "watch" and s.device.path == "tethered"]
    tethered = [s for s in tethered if s.phone_ip]
    assert len(tethered) > 20
    assert all(s.ip == s.phone_ip for s in tethered)


def test_a_cellular_watch_uses_its_own_address_only_when_the_phone_is_away(
    started: tuple[World, Started],
) -> None:
    _, seen = started
    cellular = [s for s in seen if s.device.type == "watch" and s.device.path == "cellular"]
    cellular = [s for s in cellular if s.phone_ip]
    assert cellular
    for start in cellular:
        if start.phone_away:
            assert start.where == "gym"
            assert start.ip == start.ips["watch"]  # its own carrier NAT address (may coincide)
        else:
            assert start.ip == start.phone_ip
    assert any(s.phone_away for s in cellular)  # the phone stayed in the locker sometimes


def test_a_projecting_car_is_the_phone_and_an_embedded_car_has_its_own_address(
    started: tuple[World, Started],
) -> None:
    world, seen = started
    projected = [s for s in seen if s.device.type == "car" and s.device.path == "projection"]
    embedded = [s for s in seen if s.device.type == "car" and s.device.path == "embedded"]
    assert projected and embedded
    for start in projected:
        assert start.device.relay is not None and start.sender == start.device.relay.id
        assert start.ip == start.phone_ip
    pools = world.addresses.carrier_ips
    for start in embedded:
        assert start.sender == start.device.id
        assert start.ip == start.ips["car"]
        assert start.ip in pools[start.device.carrier % len(pools)]


def test_at_home_a_household_shows_the_router_address(started: tuple[World, Started]) -> None:
    world, seen = started
    at_home = [s for s in seen if s.where.startswith("home.") and s.device.type != "phone"]
    assert len(at_home) > 100
    for start in at_home:
        if start.device.type == "watch" and start.device.relay is not None:
            assert start.ip == start.phone_ip
        else:
            assert start.ip == world.household_of(start.person).home_ip


def test_a_household_draws_the_same_people_and_devices_whichever_worker_builds_it() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(persons=200)

    def portrait(shard: tuple[int, int]) -> dict[str, Any]:
        world = World(scenario, shard=shard)
        return {
            h.id: [
                (p.name, p.age, p.timezone, p.city, p.commute, [(d.id, d.path) for d in p.devices])
                for p in h.members
            ]
            for h in world.households
        }

    whole = portrait((0, 1))
    dealt = portrait((0, 2)) | portrait((1, 2))
    assert dealt == whole
