"""The stitching ceiling (benchmarks/stitch_ceiling.py) on a hand-made trace.

Ann has a phone she logs in on, a laptop she logs in on, and a watch that
speaks from her phone's address within the minute; Bob, at the same home,
has a tablet. The oracle links Ann's three devices by userId and the minute,
and never Bob's tablet with anyone (precision 1 by construction).
"""

from __future__ import annotations

from typing import Any

from benchmarks.stitch_ceiling import KINDS, Sightings, evidence, oracle
from sim.analysis.stitching import score

HOME = "73.1.1.1"
CARRIER = "174.2.2.2"


def event(device: str, ts: str, ip: str, user: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"timestamp": ts, "context": {"device": {"id": device}, "ip": ip}}
    if user:
        out["userId"] = user
    return out


TRACE = [
    event("ann-phone", "2026-11-02T20:00:00Z", HOME, "u-ann"),
    event("ann-laptop", "2026-11-02T21:00:00Z", HOME, "u-ann"),
    event("ann-phone", "2026-11-03T12:00:00Z", CARRIER),
    event("ann-watch", "2026-11-03T12:00:40Z", CARRIER),
    event("bob-tablet", "2026-11-02T22:00:00Z", HOME),
]
OWNER = {"ann-phone": "ann", "ann-laptop": "ann", "ann-watch": "ann", "bob-tablet": "bob"}
TRUTH = [
    {
        "device_id": d,
        "person_id": p,
        "household_id": "h1",
        "device_type": d.split("-")[1],
        "user_ids": ["u-ann"] if d in ("ann-phone", "ann-laptop") else [],
        "also_used_by": [],
    }
    for d, p in OWNER.items()
]


def test_evidence_kinds_and_the_oracle_tiers() -> None:
    sightings = Sightings()
    for e in TRACE:
        sightings.add(e)
    edges = evidence(sightings, OWNER)
    assert "userId" in edges[frozenset(("ann-phone", "ann-laptop"))]
    assert "same minute" in edges[frozenset(("ann-phone", "ann-watch"))]
    assert "home" in edges[frozenset(("ann-laptop", "bob-tablet"))]
    owned = {"ann": ["ann-laptop", "ann-phone", "ann-watch"], "bob": ["bob-tablet"]}
    only_users = oracle(owned, edges, {KINDS[0]})
    assert sorted(len(p["device_ids"]) for p in only_users) == [1, 1, 2]
    with_minute = oracle(owned, edges, set(KINDS[:2]))
    person = score(with_minute, TRUTH)["person_level"]
    assert person["pairwise_precision"] == 1.0 and person["pairwise_recall"] == 1.0
