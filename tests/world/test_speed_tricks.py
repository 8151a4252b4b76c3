"""Each speed trick of the world against the plain code it stands in for."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.world.brand import device_use, pickups_per_day, pickups_per_day_shared
from sim.world.devices import hex_id
from sim.world.scenario import load_scenario
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]


def _hex_id_plain(rng: np.random.Generator, length: int) -> str:
    return "".join(f"{b:02x}" for b in rng.integers(0, 256, size=(length + 1) // 2))[:length]


def test_hex_id_writes_the_digits_one_format_per_byte_would() -> None:
    for length in (1, 12, 16, 31, 32):
        fast, plain = np.random.default_rng(7), np.random.default_rng(7)
        for _ in range(200):
            assert hex_id(fast, length) == _hex_id_plain(plain, length)
        assert fast.random() == plain.random(), "both drew the same numbers from the stream"


def test_shared_pickups_per_day_equal_each_persons_own() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(persons=300)
    world = World(scenario)
    use = device_use()
    people = list(world.people())
    shared = [pickups_per_day_shared(p, use) for p in people]
    assert [pickups_per_day(p, use) for p in people] == shared
    assert len({id(s) for s in shared}) < len(people) / 2, "people with one persona and kit share"
    assert len({tuple(s.items()) for s in shared}) > 5, "different kits, different days"
