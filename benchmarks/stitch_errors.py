"""Where person-level stitching goes wrong: error class x device type x the rule responsible.

Reads a run folder (``profiles.jsonl`` and ``truth.jsonl.gz``; with
``--restitch`` the trace is stitched again by this tree's engine) and puts
every owned device in one class:

- ``right``: on a person profile whose owners are all its owner, with at
  least one other device of its owner (or its owner has no other device);
- ``intruder`` (a false merge): on a person profile whose main owner (the
  person with most devices there; ties: the smaller person id) is someone
  else; the rule is the link rule that put it there;
- ``host``: its owner is the profile's main owner but someone else's device
  is there too (the profile is fused by an intruder);
- ``missed``: its owner has other devices and none of them is on its profile
  (alone, or parked on a household entity: rule ``household``).

The rule of a device is ``links[device]`` of its profile (the rule codes of
the merge log: ``deterministic``, ``probabilistic``, ``primary_person``,
``turns``, ...). Run: ``.venv/bin/python -m benchmarks.stitch_errors --run <run folder>``.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

HOUSEHOLD = "household"


def _rows(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return [orjson.loads(line) for line in handle if line.strip()]


def classify(
    profiles: Iterable[Mapping[str, Any]], truth: Iterable[Mapping[str, Any]]
) -> Counter[tuple[str, str, str]]:
    """Counts of (class, device type, rule) over owned devices (see the module docstring)."""
    owner = {str(t["device_id"]): t.get("person_id") for t in truth}
    kind = {str(t["device_id"]): str(t.get("device_type") or "") for t in truth}
    owned: Counter[str] = Counter(str(p) for p in owner.values() if p is not None)
    counts: Counter[tuple[str, str, str]] = Counter()
    for row in profiles:
        devices = [str(d) for d in row.get("device_ids", ()) if owner.get(str(d)) is not None]
        links: Mapping[str, str] = row.get("links") or {}
        on_household = row.get("kind") == HOUSEHOLD
        owners = Counter(str(owner[d]) for d in devices)
        main = min(owners, key=lambda p: (-owners[p], p)) if owners else None
        for device in devices:
            person = str(owner[device])
            rule = HOUSEHOLD if on_household else links.get(device, "?")
            if on_household or owners[person] == 1:
                cls = "missed" if owned[person] > 1 else "right"
                if not on_household and len(owners) > 1:
                    cls = "intruder" if person != main else cls
            elif person != main:
                cls = "intruder"
            elif len(owners) > 1:
                cls = "host"
            else:
                cls = "right"
            counts[(cls, kind[device], rule)] += 1
    return counts


def table(counts: Counter[tuple[str, str, str]]) -> str:
    """The counts as text, largest first, with a total per class."""
    lines = []
    totals: Counter[str] = Counter()
    for (cls, _, _), n in counts.items():
        totals[cls] += n
    lines.append("class totals: " + ", ".join(f"{c} {n}" for c, n in totals.most_common()))
    by_rule: dict[str, Counter[str]] = {}
    for (cls, _, rule), n in counts.items():
        by_rule.setdefault(rule, Counter())[cls] += n
    lines.append(
        "by rule (right/host/intruder/missed): "
        + ", ".join(
            f"{rule} {c['right']}/{c['host']}/{c['intruder']}/{c['missed']}"
            for rule, c in sorted(by_rule.items())
        )
    )
    lines.append(f"{'class':<10} {'device type':<12} {'rule':<18} {'devices':>8}")
    for (cls, device_type, rule), n in sorted(counts.items(), key=lambda i: (i[0][0], -i[1])):
        if cls != "right":
            lines.append(f"{cls:<10} {device_type:<12} {rule:<18} {n:>8}")
    return "\n".join(lines)


def household_errors(
    profiles: Iterable[Mapping[str, Any]], truth: Iterable[Mapping[str, Any]]
) -> Counter[str]:
    """Household-level pair counts by where the pair went right or wrong.

    Pairs with a shared device (no owner, or used by two or more people) are
    scored on household roots (:data:`sim.analysis.stitching.HOUSEHOLD_LEVEL`):

    - ``shared right``: one root, one true household;
    - ``shared split``: one true household, both devices under household
      entities, but two different ones (a home split in two);
    - ``shared unjoined``: one true household, one device under a person root
      that belongs to no household (a person or device never joined its home);
    - ``shared fused hh`` / ``shared fused person``: one root (a household entity /
      a person) holding devices of two true households (an office made a home).

    Personal pairs are person-level: ``personal right``, ``personal missed``,
    ``personal fused``.
    """
    from sim.analysis.stitching import as_rows, placements, read_truth

    known = read_truth(truth)
    placed = placements(as_rows(list(profiles)), strip_probabilistic=False)
    devices = sorted(d for d in placed if d in known)
    counts: Counter[str] = Counter()
    by_household: dict[str, list[str]] = {}
    by_root: dict[str, list[str]] = {}
    for d in devices:
        by_household.setdefault(known[d].household, []).append(d)
        by_root.setdefault(placed[d].root, []).append(d)
    for group in by_household.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                ta, tb, pa, pb = known[a], known[b], placed[a], placed[b]
                if ta.shared or tb.shared:
                    if pa.root == pb.root:
                        counts["shared right"] += 1
                    elif pa.root.startswith("h-") and pb.root.startswith("h-"):
                        counts["shared split"] += 1
                    else:
                        counts["shared unjoined"] += 1
                elif ta.person == tb.person:
                    right = pa.profile == pb.profile
                    counts["personal right" if right else "personal missed"] += 1
    for root, group in by_root.items():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                ta, tb, pa, pb = known[a], known[b], placed[a], placed[b]
                if (ta.shared or tb.shared) and ta.household != tb.household:
                    counts[
                        "shared fused hh" if root.startswith("h-") else "shared fused person"
                    ] += 1
                elif not (ta.shared or tb.shared or pa.profile != pb.profile):
                    counts["personal fused"] += ta.person != tb.person
    return counts


def household_addresses(run: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Each household's address (truth side: the address its members' devices used most while
    their owner was in a ``home.*`` context, ``contexts.jsonl.gz``) and every device's addresses."""
    from bisect import bisect_right

    owner = {str(t["device_id"]): t for t in _rows(run / "truth.jsonl.gz")}
    spans: dict[str, list[tuple[str, str, str]]] = {}
    for row in _rows(run / "contexts.jsonl.gz"):
        spans.setdefault(str(row["person_id"]), []).append(
            (str(row["start"]), str(row["end"]), str(row["context"]))
        )
    for found in spans.values():
        found.sort()
    votes: dict[str, Counter[str]] = {}
    seen: dict[str, set[str]] = {}
    for event in _rows(run / "trace.jsonl.gz"):
        context = event.get("context") or {}
        device, ip = (context.get("device") or {}).get("id"), context.get("ip")
        if not device or not ip:
            continue
        seen.setdefault(str(device), set()).add(str(ip))
        truth = owner.get(str(device))
        if truth is None or truth.get("person_id") is None:
            continue
        found = spans.get(str(truth["person_id"]), [])
        at = str(event["timestamp"])
        i = bisect_right(found, (at, "~", "~")) - 1
        if i >= 0 and found[i][0] <= at <= found[i][1] and found[i][2].startswith("home"):
            votes.setdefault(str(truth["household_id"]), Counter())[str(ip)] += 1
    homes = {hh: min(c, key=lambda ip: (-c[ip], ip)) for hh, c in votes.items()}
    return homes, seen


def household_reach(
    run: Path, profiles: list[dict[str, Any]], truth: list[dict[str, Any]]
) -> tuple[int, float]:
    """Missed household-level pairs (split or unjoined) whose two profiles both used their
    household's address, and the household F0.5 were those right and no shared pair wrong:
    how far home evidence alone could take the household level on this trace."""
    from sim.analysis.stitching import as_rows, placements, read_truth

    homes, seen = household_addresses(run)
    known = read_truth(truth)
    rows = as_rows(profiles)
    placed = placements(rows, strip_probabilistic=False)
    used: dict[str, set[str]] = {}
    for row in rows:
        addresses = {ip for d in row.get("device_ids", ()) for ip in seen.get(str(d), ())}
        for d in row.get("device_ids", ()):
            used[str(d)] = addresses
    groups: dict[str, list[str]] = {}
    for d in sorted(x for x in placed if x in known):
        groups.setdefault(known[d].household, []).append(d)
    reachable = 0
    for household, group in groups.items():
        address = homes.get(household)
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if not (known[a].shared or known[b].shared) or placed[a].root == placed[b].root:
                    continue
                if address is not None and address in used[a] and address in used[b]:
                    reachable += 1
    e = household_errors(profiles, truth)
    correct = e["shared right"] + e["personal right"] + reachable
    predicted = correct + e["personal fused"]
    actual = sum(e[k] for k in ("shared right", "shared split", "shared unjoined")) + sum(
        e[k] for k in ("personal right", "personal missed")
    )
    precision, recall = correct / max(1, predicted), correct / max(1, actual)
    return reachable, 1.25 * precision * recall / max(1e-9, 0.25 * precision + recall)


def headline(profiles: list[dict[str, Any]], truth: list[dict[str, Any]]) -> str:
    """Person- and household-level scores and the per-type table, from the one scorer."""
    from sim.analysis.stitching import score

    result = score(profiles, truth)
    person, household = result["person_level"], result["household_level"]
    lines = [
        f"person P {person['pairwise_precision']:.3f} R {person['pairwise_recall']:.3f} "
        f"F0.5 {person['f05']:.3f} B-cubed F1 {person['bcubed_f1']:.3f} "
        f"fused {person['fused_profiles']}/{person['person_profiles']} "
        f"({person['fused_share']:.1%}) household F0.5 {household['f05']:.3f}",
        "with owner's phone: "
        + ", ".join(
            f"{kind} {c['with_owner_phone']}/{c['devices']} ({c['share']:.2f})"
            for kind, c in person["by_device_type"].items()
        ),
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stitch_errors")
    parser.add_argument("--run", type=Path, required=True, help="a hopsim run folder")
    parser.add_argument("--restitch", action="store_true", help="stitch the trace again here")
    parser.add_argument(
        "--reach", action="store_true", help="missed household pairs home evidence could fix"
    )
    args = parser.parse_args(argv)
    truth = _rows(args.run / "truth.jsonl.gz")
    if args.restitch:
        from benchmarks.bench_splink import SCENARIO, hopsim_profiles
        from sim.world.scenario import load_scenario

        identity = load_scenario(SCENARIO).identity
        profiles = hopsim_profiles(args.run / "trace.jsonl.gz", identity)
    else:
        profiles = _rows(args.run / "profiles.jsonl")
    print(headline(profiles, truth))
    print(table(classify(profiles, truth)))
    errors = household_errors(profiles, truth)
    print("household-level pairs: " + ", ".join(f"{k} {n}" for k, n in sorted(errors.items())))
    if args.reach:
        reachable, bound = household_reach(args.run, profiles, truth)
        print(
            f"split or unjoined pairs both of whose profiles used the household's address:"
            f" {reachable}; household F0.5 with those right and no shared pair wrong: {bound:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
