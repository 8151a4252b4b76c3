"""The world build's speed tricks against the plain numpy draws they stand in for."""

from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from faker import Faker

from sim.world import population
from sim.world.devices import hex_ids
from sim.world.faking import hash_digits
from sim.world.network import PUBLIC_FIRST_OCTETS, Addresses, NetworkPlan, public_ip, public_ips
from sim.world.numpy_draws import NumpyDraws
from sim.world.population import COUNTRY, calls_for, faker_for
from sim.world.scenario import load_scenario
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]
# Ranges where Lemire's method keeps every word, rejects now and then, or draws nothing.
RANGES = (1, 2, 3, 5, 18, 254, 256, 999, 2**16, 2**30, 2**31, 3 * 2**30 + 7, 2**32 - 1, 2**32)


def _draws(seed: int) -> tuple[np.random.Generator, NumpyDraws]:
    return np.random.default_rng(seed), NumpyDraws(np.random.default_rng(seed).bit_generator)


def test_numpy_draws_are_numpys_draws_in_any_order() -> None:
    for seed in range(300):
        ops = np.random.default_rng(10_000 + seed)
        plain, fast = _draws(seed)
        for _ in range(200):
            kind = int(ops.integers(4))
            if kind == 0:
                assert fast.random() == plain.random()
            elif kind == 1:
                low = int(ops.integers(-3, 3))
                high = low + RANGES[int(ops.integers(len(RANGES)))]
                assert fast.integers(low, high) == int(plain.integers(low, high))
            elif kind == 2:
                lengths = [int(n) for n in ops.integers(1, 40, size=int(ops.integers(1, 4)))]
                assert fast.hex_ids(*lengths) == hex_ids(plain, *lengths)
            else:
                high = int(ops.integers(1, 7))
                assert fast.integers(high) == int(plain.integers(high))


def test_numpy_draws_cross_their_blocks_as_numpy_reads_on() -> None:
    plain, fast = _draws(3)
    for _ in range(40):  # 40 x 100 bytes: many blocks of 64 outputs, ids split across two
        assert fast.random() == plain.random()
        assert fast.hex_ids(199) == hex_ids(plain, 199)


def test_a_rejection_heavy_range_rejects_where_numpy_does() -> None:
    plain, fast = _draws(5)
    high = 3 * 2**30  # a quarter of all words are rejected
    assert [fast.integers(0, high) for _ in range(5000)] == plain.integers(0, high, 5000).tolist()


def test_numpy_draws_refuse_what_they_cannot_draw() -> None:
    _, fast = _draws(0)
    with pytest.raises(ValueError, match="low >= high"):
        fast.integers(5, 5)
    with pytest.raises(ValueError, match="at most 2\\*\\*32"):
        fast.integers(0, 2**32 + 1)


def _public_ip_plain(rng: np.random.Generator) -> str:
    first = int(rng.choice(PUBLIC_FIRST_OCTETS))
    rest = rng.integers(1, 255, size=3)
    return f"{first}.{rest[0]}.{rest[1]}.{rest[2]}"


def test_public_ip_is_numpys_choice_and_three_octets() -> None:
    for seed in range(200):
        plain, fast = np.random.default_rng(seed), np.random.default_rng(seed)
        plain.integers(0, 2**31)  # half an output kept waiting in both
        fast.integers(0, 2**31)
        assert [public_ip(fast) for _ in range(5)] == [_public_ip_plain(plain) for _ in range(5)]
        assert fast.random() == plain.random()
        numpy_draws = NumpyDraws(np.random.default_rng(seed).bit_generator)
        again = np.random.default_rng(seed)
        assert public_ip(numpy_draws) == _public_ip_plain(again)


def test_a_pool_drawn_in_one_call_is_the_pool_drawn_address_by_address() -> None:
    for seed, count in ((1, 0), (2, 1), (3, 7), (4, 500)):
        plain, fast = np.random.default_rng(seed), np.random.default_rng(seed)
        assert public_ips(fast, count) == [_public_ip_plain(plain) for _ in range(count)]
        assert fast.integers(0, 1000) == plain.integers(0, 1000)


def test_numpy_draws_each_element_of_an_array_with_its_own_bounds_in_turn() -> None:
    """What :func:`public_ips` leans on, shown where Lemire's method rejects often."""
    low = np.array([0, 5, 0, 1] * 300)
    high = np.array([3 * 2**30, 18, 2**31 + 1, 255] * 300)
    plain, fast = np.random.default_rng(9), np.random.default_rng(9)
    one_by_one = [int(plain.integers(lo, hi)) for lo, hi in zip(low, high, strict=True)]
    assert fast.integers(low, high).tolist() == one_by_one


def test_addresses_are_the_pools_drawn_one_address_at_a_time() -> None:
    plan = NetworkPlan(carriers=2, carrier_pool=5, campus_pool=3, travel_pool=4, employer_size=10)
    addresses = Addresses(np.random.default_rng(21), plan, persons=95)
    plain = np.random.default_rng(21)
    carriers = [[_public_ip_plain(plain) for _ in range(5)] for _ in range(2)]
    campus = [_public_ip_plain(plain) for _ in range(3)]
    travel = [_public_ip_plain(plain) for _ in range(4)]
    employers = [_public_ip_plain(plain) for _ in range(9)]
    assert addresses.carrier_ips == carriers
    assert (addresses.campus_ips, addresses.travel_ips) == (campus, travel)
    assert addresses.employer_ips == employers


class PlainDraws:
    """A household's stream asked of numpy one call at a time (the code before the trick)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def random(self) -> float:
        return self.rng.random()

    def integers(self, low: int, high: int | None = None) -> int:
        return int(self.rng.integers(low, high))

    def hex_ids(self, *lengths: int) -> list[str]:
        return hex_ids(self.rng, *lengths)


def _people(world: World) -> list[dict[str, Any]]:
    rows = []
    for household in world.households:
        for person in household.members:
            row = asdict(person)
            row.pop("rng")
            row.pop("draw")
            row["devices"] = [(d.id, d.anonymous_id, d.path, d.carrier) for d in person.devices]
            rows.append(row | {"home_ip": household.home_ip, "city": household.city})
    return rows


def test_a_world_drawn_with_numpy_draws_is_the_world_numpy_draws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(persons=400)
    fast = _people(World(scenario, shard=(1, 2)))
    monkeypatch.setattr(
        population,
        "household_draws",
        lambda streams, hid: PlainDraws(streams.get("household", hid)),
    )
    assert fast == _people(World(scenario, shard=(1, 2)))


def test_bound_faker_calls_write_what_a_plain_faker_writes() -> None:
    for locale in COUNTRY:
        fast, plain = calls_for(locale), Faker(locale)
        for seed in range(100):
            fast.seed_instance(seed)
            plain.seed_instance(seed)
            drawn = [fast.name(), fast.phone_number(), fast.city(), fast.phone_number()]
            assert drawn == [plain.name(), plain.phone_number(), plain.city(), plain.phone_number()]
        assert faker_for(locale).random.random() == plain.random.random(), "as many draws"


def test_hash_digits_are_randints_drawn_one_by_one() -> None:
    for seed in range(300):
        fast, plain = random.Random(seed), random.Random(seed)
        text = "+1 (###) ###-#### x##" if seed % 2 else "#"
        expected = "".join(str(plain.randint(0, 9)) if c == "#" else c for c in text)
        assert hash_digits(text, fast.getrandbits) == expected
        assert fast.random() == plain.random(), "as many draws"
