"""Each speed trick of the world against the plain code it stands in for."""

from __future__ import annotations

import random
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from faker import Faker

from sim.engine.engine import Engine
from sim.engine.messaging import build_messaging
from sim.trace.clock import Clock
from sim.world.brand import device_use, pickups_per_day, pickups_per_day_shared
from sim.world.devices import hex_id, hex_ids
from sim.world.faking import quicken
from sim.world.local_hours import LocalHours
from sim.world.people import Person
from sim.world.persona import Block
from sim.world.places import ABSTRACT
from sim.world.population import COUNTRY, RememberedWeights, faker_for
from sim.world.reactions import attach
from sim.world.rng import Streams, _key
from sim.world.routine import (
    commute_block,
    jitters,
    lived,
    lived_between,
    placed,
)
from sim.world.scenario import load_scenario
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]
NIGHT = device_use().work_night_sleep  # the run-wide work-night floor every lived routine uses
CAMPAIGN = {
    "name": "nudge",
    "trigger": {"event": "Product Added"},
    "channels": ["push"],
    "message": {"title": "Hello", "body": "A nudge.", "offer": "X1", "topic": "offer"},
}


def _hex_id_plain(rng: np.random.Generator, length: int) -> str:
    return "".join(f"{b:02x}" for b in rng.integers(0, 256, size=(length + 1) // 2))[:length]


def test_hex_id_writes_the_digits_one_format_per_byte_would() -> None:
    for length in (1, 12, 16, 31, 32):
        fast, plain = np.random.default_rng(7), np.random.default_rng(7)
        for _ in range(200):
            assert hex_id(fast, length) == _hex_id_plain(plain, length)
        assert fast.random() == plain.random(), "both drew the same numbers from the stream"


def test_hex_ids_drawn_together_are_the_ids_drawn_one_by_one() -> None:
    for lengths in ((16, 32), (12,), (1, 3, 5, 32), (31, 16)):
        fast, plain = np.random.default_rng(3), np.random.default_rng(3)
        for _ in range(100):
            plain.integers(0, 2**31)  # leaves half a 64-bit draw waiting in the generator
            fast.integers(0, 2**31)
            assert hex_ids(fast, *lengths) == [hex_id(plain, n) for n in lengths]
            assert fast.integers(0, 1000) == plain.integers(0, 1000)
        assert fast.random() == plain.random()


def test_shared_pickups_per_day_equal_each_persons_own() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(persons=300)
    world = World(scenario)
    use = device_use()
    people = list(world.people())
    shared = [pickups_per_day_shared(p, use) for p in people]
    assert [pickups_per_day(p, use) for p in people] == shared
    assert len({id(s) for s in shared}) < len(people) / 2, "people with one persona and kit share"
    assert len({tuple(s.items()) for s in shared}) > 5, "different kits, different days"


def test_a_devices_type_is_its_specs_type() -> None:
    world = World(load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(persons=200))
    devices = [d for p in world.people() for d in p.devices]
    assert {d.type for d in devices} >= {"phone", "tv"}
    assert all(d.type == d.spec.type for d in devices)


def test_reactions_stream_made_on_first_need_is_the_persons_stream() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "kitchen-speaker.toml")
    world = World(scenario)
    messaging = build_messaging([CAMPAIGN], "test")
    assert messaging is not None
    loop = attach(world, Engine(dict(scenario.identity), messaging=messaging), messaging)
    people = list(world.people())
    assert not loop.rngs, "no stream made before anyone reacts"
    for person in people:
        expected = Streams(scenario.seed).get("reactions", person.id).random(5)
        assert (loop.rng_of(person).random(5) == expected).all()
        assert loop.rng_of(person) is loop.rngs[person.id], "kept, not made again"


def _placed_plain(person: Person, kind: str) -> list[Block]:
    routine = []
    for block in person.persona.routine[kind]:
        office = block.context == "work.office" and person.commute == "home"
        concrete = block.context in ABSTRACT or office
        routine.append(commute_block(person.commute or "transit", block) if concrete else block)
    return routine


def _lived_plain(person: Person, yesterday: str, kind: str, tomorrow: str) -> list[Block]:
    """The routine as each person once worked it out for themselves."""
    kinds = (yesterday, kind, tomorrow)
    routines = [_placed_plain(person, k) for k in kinds]
    return lived_between(routines, kinds, person.chronotype, NIGHT)


KINDS = ("weekday", "weekend", "travel")
TRIPLES = [(a, b, c) for a in KINDS for b in KINDS for c in KINDS]


def test_shared_commute_blocks_leave_each_persons_routine_as_it_was() -> None:
    world = World(load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(persons=400))
    people = list(world.people())
    made: dict[tuple[str | None, int], set[int]] = {}
    for person in people:
        for block in person.persona.routine["weekday"]:
            if block.context in ABSTRACT:
                made.setdefault((person.commute, id(block)), set()).add(id(placed(person, block)))
    for person in people:
        for kinds in TRIPLES:
            assert lived(person, *kinds, NIGHT) == _lived_plain(person, *kinds)
    assert len(made) > 3 and all(len(ids) == 1 for ids in made.values()), "one per mode"
    assert len({p.commute for p in people}) > 2 and len({p.chronotype for p in people}) > 10


def _fakes(fake: Faker) -> list[object]:
    marks = "#%$!@ ##!!@@ %$"
    return [fake.name(), fake.phone_number(), fake.city(), fake.name(), fake.numerify(marks)]


def test_quickened_fakers_with_remembered_weights_write_what_plain_fakers_write() -> None:
    for locale in COUNTRY:
        fast, plain = faker_for(locale), Faker(locale)
        assert isinstance(fast.random, RememberedWeights)
        for seed in range(150):
            fast.seed_instance(seed)
            plain.seed_instance(seed)
            assert _fakes(fast) == _fakes(plain)
            assert fast.random.random() == plain.random.random(), "as many draws"


def test_quickened_faker_leaves_argument_groups_and_odd_lists_to_faker() -> None:
    fast, plain = quicken(Faker("en_US")), Faker("en_US")
    weights = OrderedDict([("a", 0.2), ("b", 0.0), ("c", 0.8)])
    for fake in (fast, plain):
        fake.set_arguments("small", {"min_value": 1, "max_value": 9})
        fake.seed_instance(4)
    for _ in range(50):
        drawn = [
            f.parse("{{ pyint:small }}-{{last_name}} x{{ first_name }}")
            + f.random_element(weights)
            + f.random_element(["x", "y", "z"])
            + f.random_element("pqr")
            + str(f.random_element({1, 2, 3}))
            for f in (fast, plain)
        ]
        assert drawn[0] == drawn[1]
    with pytest.raises(ValueError, match="OrderedDict"):
        fast.random_element({"a": 1.0})


def test_remembered_weights_notice_other_weights_for_the_same_list() -> None:
    names = ("a", "b", "c")
    fast, plain = RememberedWeights(), random.Random()
    for weights in ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.2, 0.5, 0.3)):
        fast.seed(3)
        plain.seed(3)
        assert fast.choices(names, weights, k=20) == plain.choices(names, weights, k=20)


def _stream_plain(seed: int, *path: str | int) -> np.random.Generator:
    keys = tuple(_key(p) for p in path)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=keys)))


def test_streams_hashed_on_integers_are_numpys_seed_sequence_streams() -> None:
    draw = np.random.default_rng(5)
    for seed in (0, 1, 11, 2**32 - 1, 2**32, 2**63 - 1, 2**70 + 3):
        streams = Streams(seed)
        for _ in range(100):
            path: tuple[str | int, ...] = tuple(int(k) for k in draw.integers(0, 2**32, size=3))
            path = path[: int(draw.integers(0, 4))]
            if draw.random() < 0.5:
                path = ("person", f"h{int(draw.integers(99999)):05d}-p0", *path)
            if draw.random() < 0.2:
                path = (*path, int(draw.integers(0, 2**62)) * 5)  # a key of several words
            if draw.random() < 0.2:
                path = (int(draw.integers(0, 2**62)) * 5, *path)
            fast, plain = streams.get(*path), _stream_plain(seed, *path)
            assert fast.bit_generator.state == plain.bit_generator.state, (seed, path)
            assert (fast.random(3) == plain.random(3)).all()


def test_many_streams_at_once_are_each_streams_own() -> None:
    streams = Streams(11)
    lists: list[list[str | int]] = [[0, 1, 2, 2**32 - 1], ["h00001-p0", "h00002-p1", 7], [3, 2**40]]
    for keys in lists:
        fast = [g.bit_generator.state for g in streams.many("household-shape", keys)]
        assert fast == [_stream_plain(11, "household-shape", k).bit_generator.state for k in keys]
    assert streams.many("person", []) == []


def test_prepared_streams_are_the_streams_get_makes_once_then_made_afresh() -> None:
    prepared, plain = Streams(11), Streams(11)
    people = ["h00001-p0", "h00001-p1", "h00003-p0"]
    prepared.prepare("person", people)
    for person in people:
        assert (
            prepared.get("person", person).random(4).tolist()
            == plain.get("person", person).random(4).tolist()
        )
    assert not prepared._ready, "each handed out once"
    again = prepared.get("person", people[0]).random(4)
    assert again.tolist() == _stream_plain(11, "person", people[0]).random(4).tolist()


def test_a_world_draws_its_people_from_prepared_streams_as_from_plain_ones() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(persons=300)
    fast = World(scenario, shard=(1, 2))
    streams = Streams(scenario.seed)
    for person in fast.people():
        assert person.rng.random() == streams.get("person", person.id).random()
    left = {name for name, _ in fast.streams._ready}
    assert left <= {"brand", "restless"}, "the brand's and the first night's left for the day"
    for person in fast.people():
        if person.age >= 18 and not person.named:
            prepared = fast.streams.get("restless", person.id).random()
            assert prepared == streams.get("restless", person.id).random(), "as a plain one"


# ---- speed3: the day simulation's tricks -------------------------------------------------------

ZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Paris",
    "Europe/Warsaw",
    "Asia/Seoul",
    "Asia/Kolkata",  # half an hour off the hour
    "Asia/Kathmandu",  # three quarters
    "Australia/Lord_Howe",  # a half-hour daylight saving shift
    "Pacific/Chatham",  # 12:45 and 13:45
    "UTC",
)


def test_local_hours_are_the_hours_the_datetimes_tell() -> None:
    starts = (
        datetime(2026, 11, 2, tzinfo=UTC),
        datetime(2026, 3, 7, 17, 29, 59, 250_000, tzinfo=ZoneInfo("America/Chicago")),
    )
    draw = random.Random(5)
    for start in starts:
        clock = Clock(start)
        hours = LocalHours(clock)
        year = 366 * 86_400.0
        moments = [draw.uniform(0.0, year) for _ in range(20_000)]
        moments += [h * 900.0 + d for h in range(4 * 24 * 366) for d in (0.0, -1e-7, 4e-7)][::7]
        moments = [max(0.0, t) for t in moments]
        for zone in map(ZoneInfo, ZONES):
            for t in moments:
                assert hours.hour(zone, t) == clock.at(t).astimezone(zone).hour, (start, zone, t)
    unsteady = [k for k, v in hours._offsets.items() if v is None]
    assert unsteady, "the hours in which clocks change are left to the datetimes"


def test_a_days_jitters_in_one_call_are_the_jitters_drawn_block_by_block() -> None:
    world = World(load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(persons=50))
    for person in world.people():
        for kinds in TRIPLES:
            blocks = lived(person, *kinds, NIGHT)
            fast, plain = np.random.default_rng(len(blocks)), np.random.default_rng(len(blocks))
            for _ in range(3):
                one_by_one = [plain.normal(0.0, b.jitter) if b.jitter else 0.0 for b in blocks]
                shifts = jitters(blocks, fast)
                assert shifts == one_by_one
                assert all(type(shift) is float for shift in shifts), "plain floats, not numpy's"
                assert fast.random() == plain.random(), "the stream left where it was"
    assert jitters([], fast) == [] and fast.random() == plain.random()


def test_people_alike_share_one_lived_routine() -> None:
    world = World(
        load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(persons=1500)
    )
    by_key: dict[tuple[str, tuple[str, ...], str | None, int], set[int]] = {}
    triples = [
        ("weekday",) * 3,
        ("weekday", "weekday", "weekend"),
        ("weekend", "weekend", "weekday"),
    ]
    for person in world.people():
        for kinds in triples:
            blocks = lived(person, *kinds, NIGHT)
            assert blocks == _lived_plain(person, *kinds)
            key = (person.persona.name, kinds, person.commute, person.chronotype)
            by_key.setdefault(key, set()).add(id(blocks))
    assert all(len(ids) == 1 for ids in by_key.values()), "one list for people alike"
    days_lived = len(triples) * sum(1 for _ in world.people())
    assert len(by_key) < 0.9 * days_lived, "people alike share"


def test_a_blocks_menu_and_brand_odds_can_be_looked_up_once_they_never_change_in_a_run() -> None:
    """``life.spend`` looks both up once per block: the same answers before and after a run.

    (A menu is made of the person's devices and the block alone, so unchanged
    devices keep every menu as it was.)
    """
    from sim.world.life import play
    from sim.world.scenario import load_scenario
    from sim.world.world import World

    root = Path(__file__).resolve().parents[2]
    scenario = load_scenario(root / "scenarios" / "population.toml")
    world = World(scenario.with_overrides(persons=120, days=3))
    people = list(world.people())

    def snapshot() -> list[tuple[object, ...]]:
        rows: list[tuple[object, ...]] = []
        for person in people:
            odds = dict(world.brand.of(person, world.streams).odds)
            rows.append((person.id, odds, [(d.id, d.type, d.spec.label) for d in person.devices]))
        return rows

    before = snapshot()
    play(world)
    assert snapshot() == before
    assert any(row[1] for row in before), "some people use the brand"
