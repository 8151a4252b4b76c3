"""CPU seconds to build one shard's world: what a worker does before its first simulated minute.

A 1,000,000-person run deals 40 shards of 25,000 people; each worker process
builds its shards one after another (:func:`sim.runner.workers.open_shard`):
the households and people with their names, devices and random streams, the
address pools, the census tables, the engine and the messaging loop, and
every life put on the SimPy calendar. This times exactly that call,
in-process with ``time.process_time``, the collector held off as a worker
holds it, for a run of ``persons x shards`` people: round r builds shard r.
The first shard a process builds also draws every household's shape (kept
for the process's later shards), so it is reported on its own; the figure
is the minimum over the later ones (the machine is shared).

    .venv/bin/python -m benchmarks.bench_build --persons 25000 --shards 40 --rounds 4
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import Result
from sim.runner.gc import hold_collections, let_go
from sim.runner.workers import open_shard
from sim.world.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "population.toml"
PERSONS = 5_000  # make bench: a fifth of a 1M run's shard, a few seconds a round
SHARDS = 40  # as a 1M-person run deals them
ROUNDS = 4


def scenario(persons: int, shards: int) -> Scenario:
    """The population scenario at ``persons x shards`` people, one day, read afresh."""
    return load_scenario(SCENARIO).with_overrides(persons=persons * shards, days=1)


def build_seconds(world: Scenario, index: int, shards: int) -> float:
    """CPU seconds of building shard ``index`` of ``shards``, as a worker process builds it."""
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        held = hold_collections()
        started = time.process_time()
        shard = open_shard(world, Path(tmp), index, shards)
        seconds = time.process_time() - started
        shard.sink.close()
        shard.contexts.sink.close()
        del shard
        let_go(held)
    return seconds


def measure(persons: int, shards: int, rounds: int) -> list[float]:
    """Seconds of each round: the process's first shard, then the next ones."""
    world = scenario(persons, shards)
    return [build_seconds(world, index % shards, shards) for index in range(rounds)]


def run(persons: int = PERSONS, shards: int = SHARDS, rounds: int = ROUNDS) -> list[Result]:
    times = measure(persons, shards, rounds)
    later = min(times[1:])
    return [
        Result(f"build a later shard, {persons:,} persons", later, "s CPU", higher_is_better=False),
        Result("build the first shard (and the shapes)", times[0], "s CPU", higher_is_better=False),
        Result("build CPU per person", later / persons * 1e6, "us", higher_is_better=False),
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_build")
    parser.add_argument("--persons", type=int, default=25_000, help="persons per shard")
    parser.add_argument("--shards", type=int, default=SHARDS, help="shards in the run")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="shards built (at least 2)")
    args = parser.parse_args(argv)
    times = measure(args.persons, args.shards, max(2, args.rounds))
    rounds = " ".join(f"{t:.2f}" for t in times)
    print(f"shards of {args.persons:,} persons in a run of {args.persons * args.shards:,}")
    print(f"first shard (draws every household's shape): {times[0]:.2f} s CPU")
    print(f"later shards: min {min(times[1:]):.2f} s CPU (each round: {rounds})")
    print(f"per person: {min(times[1:]) / args.persons * 1e6:.1f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
