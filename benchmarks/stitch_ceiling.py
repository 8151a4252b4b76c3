"""How well could any engine stitch this trace? An oracle ceiling, per kind of evidence.

The picture: for every pair of devices one person owns, look in the trace
(never the truth) for anything that ties the two together: one account
logged in on both, one address within the same minute (a tethered watch
speaks from its phone's address), one address within one three-hour window
(an outing), the same home address, any shared address that is not public.
An oracle that knows the truth links exactly the owner's pairs that have
evidence of the kinds allowed, and nothing else: precision 1, no fused
profile. Its person-level scores (:func:`sim.analysis.stitching.score`, the
one scorer) are the best any engine can do with that evidence; an engine
also has to tell the owner from the other people the same evidence points
at, which the oracle does not.

The tiers, from the evidence that names one person to the evidence that
only names a household:

- ``userId``: the same userId sent from both devices;
- ``+ same minute``: the same address within :data:`MINUTE` seconds;
- ``+ outing``: the same address within one three-hour window (home included);
- ``+ home, one person``: the same home address (a device's busiest
  non-public address), at a home where every owned device seen belongs to
  this one person (the truth decides "one person": a trace cannot tell a
  one-person home from a home whose other member shows no phone);
- ``+ home``: the same home address, whoever else lives there;
- ``+ any address``: any shared non-public address.

An address is public when more than :data:`PUBLIC_DEVICES` devices used it
(carrier NAT, campus, big office), as in the engine's default. Groups of more
than :data:`MAX_GROUP` devices in one window are skipped (a crowd is no
evidence, and they would cost quadratic time).

Run: ``.venv/bin/python -m benchmarks.stitch_ceiling --run <run folder>``;
with ``--profiles FILE`` (a profiles.jsonl) it also splits the engine's
linked and missed true pairs by their strongest evidence.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations
from pathlib import Path
from typing import Any

from benchmarks.stitch_errors import _rows
from sim.analysis.stitching import score

PUBLIC_DEVICES = 12
MINUTE = 60
WINDOW_SECONDS = 3 * 3600
MAX_GROUP = 200
KINDS = ("userId", "same minute", "outing", "home, one person", "home", "any address")
"""Evidence kinds, strongest first; tier ``i`` allows ``KINDS[: i + 1]``."""

Pair = frozenset[str]


@dataclass
class Sightings:
    """What the trace says about each device: events (time, address) and accounts."""

    events: dict[str, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    users: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, event: Mapping[str, Any]) -> None:
        context = event.get("context") or {}
        device = (context.get("device") or {}).get("id") or event.get("anonymousId")
        stamp = str(event.get("timestamp", ""))
        if not device or not stamp:
            return
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        self.events[str(device)].append((moment, str(context.get("ip") or "")))
        if event.get("userId"):
            self.users[str(device)].add(str(event["userId"]))


def evidence(sightings: Sightings, owner: Mapping[str, str | None]) -> dict[Pair, set[str]]:
    """Every pair of devices the trace ties together, with the kinds of evidence."""
    edges: dict[Pair, set[str]] = defaultdict(set)

    def tie(devices: Iterable[str], kind: str) -> None:
        for a, b in combinations(sorted(set(devices)), 2):
            edges[frozenset((a, b))].add(kind)

    by_user: dict[str, set[str]] = defaultdict(set)
    by_ip: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for device, events in sightings.events.items():
        for user in sightings.users.get(device, ()):
            by_user[user].add(device)
        for moment, ip in events:
            by_ip[ip].append((moment, device))
    for devices in by_user.values():
        tie(devices, "userId")
    public = {ip for ip, seen in by_ip.items() if len({d for _, d in seen}) > PUBLIC_DEVICES}
    for ip, seen in by_ip.items():
        seen.sort()
        windows: dict[int, set[str]] = defaultdict(set)
        for i, (moment, device) in enumerate(seen):
            windows[int(moment // WINDOW_SECONDS)].add(device)
            j = i + 1
            while j < len(seen) and seen[j][0] - moment <= MINUTE:
                if seen[j][1] != device:
                    edges[frozenset((device, seen[j][1]))].add("same minute")
                j += 1
        for devices in windows.values():
            if len(devices) <= MAX_GROUP:
                tie(devices, "outing")
        if ip not in public and len({d for _, d in seen}) <= MAX_GROUP:
            tie((d for _, d in seen), "any address")
    homes: dict[str, list[str]] = defaultdict(list)
    for device, events in sightings.events.items():
        counts = Counter(ip for _, ip in events if ip not in public)
        if counts:
            homes[max(counts, key=lambda ip: (counts[ip], ip))].append(device)
    for sleepers in homes.values():
        tie(sleepers, "home")
        persons = {owner.get(d) for d in sleepers if owner.get(d) is not None}
        if len(persons) == 1:
            tie(sleepers, "home, one person")
    return edges


def oracle(
    owned: Mapping[str, list[str]], edges: Mapping[Pair, set[str]], kinds: set[str]
) -> list[dict[str, Any]]:
    """Profiles linking each person's devices that have evidence of ``kinds`` (components)."""
    profiles: list[dict[str, Any]] = []
    for person, devices in sorted(owned.items()):
        parent = {d: d for d in devices}
        for a, b in combinations(devices, 2):
            if edges.get(frozenset((a, b)), set()) & kinds:
                parent[_find(parent, a)] = _find(parent, b)
        groups: dict[str, list[str]] = defaultdict(list)
        for d in devices:
            groups[_find(parent, d)].append(d)
        for root, members in sorted(groups.items()):
            profiles.append(
                {
                    "profile_id": f"oracle:{person}:{root}",
                    "kind": "person",
                    "device_ids": sorted(members),
                    "links": {},
                }
            )
    return profiles


def _find(parent: dict[str, str], device: str) -> str:
    """Union-find root of ``device`` (path halving)."""
    while parent[device] != device:
        parent[device] = parent[parent[device]]
        device = parent[device]
    return device


def line(name: str, profiles: list[dict[str, Any]], truth: list[dict[str, Any]]) -> str:
    result = score(profiles, truth)
    person, household = result["person_level"], result["household_level"]
    types = " ".join(
        f"{kind} {c['share']:.2f}" for kind, c in sorted(person["by_device_type"].items())
    )
    return (
        f"{name:<22} P {person['pairwise_precision']:.3f} R {person['pairwise_recall']:.3f}"
        f" F0.5 {person['f05']:.3f} B3 {person['bcubed_f1']:.3f}"
        f" fused {person['fused_share']:.3f} hh {household['f05']:.3f} | with phone: {types}"
    )


def strongest(kinds: set[str]) -> str:
    return next((k for k in KINDS if k in kinds), "none")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stitch_ceiling")
    parser.add_argument("--run", type=Path, required=True, help="a hopsim run folder")
    parser.add_argument("--profiles", type=Path, help="engine profiles.jsonl to split by evidence")
    args = parser.parse_args(argv)
    truth = _rows(args.run / "truth.jsonl.gz")
    sightings = Sightings()
    for event in _rows(args.run / "trace.jsonl.gz"):
        sightings.add(event)
    owner = {str(t["device_id"]): t.get("person_id") for t in truth}
    owned: dict[str, list[str]] = defaultdict(list)
    for device in sorted(sightings.events):
        person = owner.get(device)
        if person is not None:
            owned[str(person)].append(device)
    edges = evidence(sightings, owner)
    print(f"devices seen {len(sightings.events)}, owned {sum(map(len, owned.values()))}")
    for i in range(len(KINDS)):
        name = ("" if i == 0 else "+ ") + KINDS[i]
        print(line(name, oracle(owned, edges, set(KINDS[: i + 1])), truth))
    pairs: Counter[str] = Counter()
    for devices in owned.values():
        for a, b in combinations(devices, 2):
            pairs[strongest(edges.get(frozenset((a, b)), set()))] += 1
    print("true pairs by strongest evidence: " + ", ".join(f"{k} {n}" for k, n in pairs.items()))
    if args.profiles:
        on = {
            d: str(p["profile_id"])
            for p in _rows(args.profiles)
            if p.get("kind") == "person"
            for d in p.get("device_ids", ())
        }
        split: Counter[tuple[bool, str]] = Counter()
        for devices in owned.values():
            for a, b in combinations(devices, 2):
                linked = a in on and on.get(a) == on.get(b)
                split[(linked, strongest(edges.get(frozenset((a, b)), set())))] += 1
        for linked in (True, False):
            print(
                ("engine linked: " if linked else "engine missed: ")
                + ", ".join(
                    f"{k} {split[(linked, k)]}" for k in (*KINDS, "none") if split[(linked, k)]
                )
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
