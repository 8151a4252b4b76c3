"""The drawn population's US adults beside the surveys: age mix and expected ownership.

Draws the population only (no simulated week, a few seconds per thousand
people) and prints, for the US adults: the share in each age band beside the
ACS mix the surveys weight to (``data/ownership.toml`` ``[age_mix]``); each
device's *expected* share (every adult's band rate x archetype propensity,
summed: what the realism row would be with no sampling noise) beside the
share actually drawn (among their devices, the household's included); and
the US workers' transit share. A realism row far from its band while its
expected value sits mid-band is luck; an expected value at the edge is the
world's mix or rates.

    .venv/bin/python -m benchmarks.ownership_mix --persons 20000 --seed 11
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from sim.world.census import load_census
from sim.world.network import Addresses
from sim.world.people import Person
from sim.world.population import populate
from sim.world.rng import Streams
from sim.world.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("phone", "watch", "tablet", "laptop", "speaker")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "population.toml"))
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    scenario = load_scenario(Path(args.scenario)).with_overrides(
        persons=args.persons, seed=args.seed
    )
    streams = Streams(args.seed)
    census = load_census()
    addresses = Addresses(streams.get("addresses"), scenario.network, args.persons)
    people = [p for h in populate(scenario, streams, addresses, census=census) for p in h.members]
    us = [p for p in people if p.country == "US"]
    adults = [p for p in us if p.age >= 18]
    bands = Counter(census.ownership.band(p.age) for p in adults)
    print(f"US adults: {len(adults)}")
    print("age band   drawn    ACS")
    for band, share in census.ownership.age_mix["US"].items():
        print(f"{band:8s} {bands[band] / len(adults):7.3f} {share:6.3f}")
    print("device   expected  drawn")
    for kind in KINDS:
        expected = sum(expected_owns(p, kind) for p in adults) / len(adults)
        drawn = sum(any(d.type == kind for d in p.devices) for p in adults) / len(adults)
        print(f"{kind:8s} {expected:8.4f} {drawn:7.4f}")
    workers = [p for p in us if p.commute]
    transit = sum(p.commute == "transit" for p in workers)
    print(f"US workers: {len(workers)}, transit {transit / max(1, len(workers)):.4f}")


def expected_owns(person: Person, kind: str) -> float:
    """The chance the person owns a ``kind`` (1 for a persona that keeps its listed devices)."""
    propensities = person.persona.ownership
    if propensities is None:
        return float(any(s.type == kind for s in person.persona.devices))
    rate = load_census().ownership.rate(person.country, kind, person.age)
    return min(1.0, rate * propensities.get(kind, 0.0))


if __name__ == "__main__":
    main()
