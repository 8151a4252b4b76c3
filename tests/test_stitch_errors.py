"""Household-level pair classes of benchmarks/stitch_errors.py on hand-made profiles.

Home h1 has a TV, Ann and Bob; home h2 has Carl; home h3 has a TV and Dan.
The engine put the TV and Ann under household H1 (right), left Bob alone
(unjoined), put Carl, who lives elsewhere, under H1 as well (fused) and
split home h3 over two household entities.
"""

from __future__ import annotations

from typing import Any

from benchmarks.stitch_errors import household_errors


def device(device_id: str, household: str, person: str | None, kind: str) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "person_id": person,
        "household_id": household,
        "device_type": kind,
        "user_ids": [],
        "also_used_by": [],
    }


TRUTH = [
    device("tv", "h1", None, "tv"),
    device("ann", "h1", "ann", "phone"),
    device("bob", "h1", "bob", "phone"),
    device("carl", "h2", "carl", "phone"),
    device("tv3", "h3", None, "tv"),
    device("dan", "h3", "dan", "phone"),
]


def person(pid: str, devices: list[str], household: str | None = None) -> dict[str, Any]:
    return {"profile_id": pid, "kind": "person", "device_ids": devices, "household_id": household}


PROFILES = [
    {"profile_id": "h-1", "kind": "household", "device_ids": ["tv"]},
    person("p-ann", ["ann"], "h-1"),
    person("p-bob", ["bob"]),
    person("p-carl", ["carl"], "h-1"),
    {"profile_id": "h-2", "kind": "household", "device_ids": ["tv3"]},
    person("p-dan", ["dan"], "h-3"),
    {"profile_id": "h-3", "kind": "household", "device_ids": []},
]


def test_household_pairs_by_class() -> None:
    counts = household_errors(PROFILES, TRUTH)
    assert counts["shared right"] == 1  # the TV and Ann under H1
    assert counts["shared unjoined"] == 1  # the TV and Bob, who is in no household
    assert counts["shared fused hh"] == 1  # the TV and Carl, of another home, under H1
    assert counts["shared split"] == 1  # Dan's TV on H2, Dan under H3
    assert counts["personal fused"] == 0
    assert sum(counts.values()) == 4
