"""Could finalize run a partition at a time? The components of a real run's identity evidence.

    .venv/bin/python -m benchmarks.identity_components --persons 30000 --days 1

Runs the scenario (``--workers 2``), absorbs the shards' graphs as
``hopsim run`` does, and, before ``finalize()``, joins devices that a
finalize pass may weigh together, one relation after another:

1. ``profiles``: the devices of one profile, and the accounts of a shared device;
2. ``home networks``: devices seen on one non-public address (a home, a small office);
3. ``public windows``: devices seen on one public address in one three-hour
   window, when the window holds no more than ``MAX_BLOCK`` devices (the
   blocking keys ``Blocks`` keeps; the pool it counts is a subset of these
   devices, so a window dropped here is dropped there too);
4. ``time slots``: devices active in one ten-minute slot, under the same limit
   (the ``time`` rule's blocking key).

A pass's decision for a device reads only the devices it is joined to, so
finalize could run one component at a time, exactly, only if the
components of every relation the passes use stay small. The printout
gives, per relation, the number of components and the largest one's share
of the devices. By hand, minutes long; results go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sim.engine.engine import load_identity_config
from sim.engine.identity import GraphState, GraphStats, IdentityGraph
from sim.engine.identity.layout import meeting_network
from sim.engine.identity.signals import MAX_BLOCK
from sim.runner import Run
from sim.runner.shard import ShardResult
from sim.world.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


class Components:
    """Union-find over device names (smallest index is the root)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.index = {name: i for i, name in enumerate(names)}
        self.parent = list(range(len(self.index)))

    def find(self, a: int) -> int:
        parent = self.parent
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def join(self, members: list[int]) -> None:
        for other in members[1:]:
            a, b = self.find(members[0]), self.find(other)
            if a != b:
                self.parent[max(a, b)] = min(a, b)

    def sizes(self) -> list[int]:
        return sorted(Counter(self.find(i) for i in range(len(self.parent))).values(), reverse=True)


def relations(state: GraphState, index: dict[str, int]) -> Iterable[tuple[str, list[list[int]]]]:
    """The groups of devices each relation joins (``index``: device name -> number), in order."""
    profiles = [[index[d] for d in s.device_ids if d in index] for s in state.registry.live()]
    for name, card in state.devices.items():
        owners = (state.registry.find("userId", user) for user in card.users)
        profiles += [
            [index[name], *(index[d] for d in p.device_ids if d in index)] for p in owners if p
        ]
    yield "profiles", profiles
    public = state.book.public()
    networks: dict[int, list[int]] = defaultdict(list)
    windows: dict[int, list[int]] = defaultdict(list)
    slots: dict[int, list[int]] = defaultdict(list)
    for name, card in state.devices.items():
        for ip in card.ips:
            networks[ip].append(index[name])
        for pair in card.ip_hours:
            windows[pair].append(index[name])
        for slot in card.slots():
            slots[slot].append(index[name])
    yield "home networks", [d for ip, d in networks.items() if ip not in public]
    yield (
        "public windows",
        [
            d
            for pair, d in windows.items()
            if meeting_network(pair) in public and len(d) <= MAX_BLOCK
        ],
    )
    yield "time slots", [d for d in slots.values() if len(d) <= MAX_BLOCK]


def report(state: GraphState) -> list[str]:
    union = Components(state.devices)
    lines = [f"{len(state.devices):,} devices, {len(state.book.public()):,} public networks"]
    for name, groups in relations(state, union.index):
        for members in groups:
            union.join(members)
        sizes = union.sizes()
        share = sizes[0] / max(1, len(state.devices))
        lines.append(
            f"  + {name:<15} {len(sizes):8,} components, largest {sizes[0]:8,} ({share:6.1%})"
        )
    return lines


class CapturingRun(Run):
    """A ``Run`` that reports the components of its absorbed graph before finalizing it."""

    lines: list[str]

    def _profiles(self, shards: list[ShardResult]) -> tuple[list[dict[str, Any]], GraphStats]:
        config = load_identity_config(dict(self.scenario.identity))
        graph = IdentityGraph.absorb([s.identity for s in shards if s.identity], config)
        self.lines = report(graph.state)
        graph.finalize()
        return [p.as_json() for p in graph.profiles()], graph.stats()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "population.toml")
    parser.add_argument("--persons", type=int, default=30_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario).with_overrides(args.persons, args.days)
    with tempfile.TemporaryDirectory(prefix="identity-components-") as tmp:
        run = CapturingRun(scenario, Path(tmp) / "run", args.workers)
        run.execute()
    print(f"{args.persons:,} persons x {args.days} day(s):")
    print("\n".join(run.lines))


if __name__ == "__main__":
    main()
