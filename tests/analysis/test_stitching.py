"""Stitching metrics checked against values worked out by hand.

The scene: household h1 with persons A (phone a1, laptop a2) and B (phone
b1), a family TV (t1, shared); household h2 with person C (phone c1).
"""

from __future__ import annotations

from typing import Any

import pytest

from sim.analysis.stitching import score

TRUTH: list[dict[str, Any]] = [
    {"device_id": "a1", "household_id": "h1", "person_id": "A", "user_ids": ["uA"]},
    {"device_id": "a2", "household_id": "h1", "person_id": "A", "user_ids": []},
    {"device_id": "b1", "household_id": "h1", "person_id": "B", "user_ids": ["uB"]},
    {"device_id": "t1", "household_id": "h1", "person_id": None, "user_ids": []},
    {"device_id": "c1", "household_id": "h2", "person_id": "C", "user_ids": []},
]


def person(
    pid: str, devices: list[str], household: str | None = None, **links: str
) -> dict[str, Any]:
    return {
        "profile_id": pid,
        "kind": "person",
        "device_ids": devices,
        "household_id": household,
        "household_rule": "probabilistic" if household else None,
        "links": {d: links.get(d, "deterministic") for d in devices},
    }


def household(pid: str, devices: list[str]) -> dict[str, Any]:
    return {
        "profile_id": pid,
        "kind": "household",
        "device_ids": devices,
        "links": dict.fromkeys(devices, "probabilistic"),
    }


def test_a_perfect_answer_scores_one_everywhere() -> None:
    profiles = [
        person("pA", ["a1", "a2"], "h"),
        person("pB", ["b1"], "h"),
        household("h", ["t1"]),
        person("pC", ["c1"]),
    ]
    result = score(profiles, TRUTH)
    # true pairs: (a1,a2) person-level; (t1,a1) (t1,a2) (t1,b1) household-level = 4
    assert result["true_pairs"] == 4 and result["correct_pairs"] == 4
    for key in ("pairwise_precision", "pairwise_recall", "f1", "f05", "bcubed_f1"):
        assert result[key] == 1.0
    assert result["over_merges"] == 0 and result["under_merges"] == 0


def test_fusing_the_family_into_one_person_costs_precision() -> None:
    profiles = [person("p1", ["a1", "a2", "b1", "t1"]), person("pC", ["c1"])]
    result = score(profiles, TRUTH)
    # predicted pairs: personal a1-a2, a1-b1, a2-b1 (3) + pairs with t1 (3) = 6; correct 4
    assert result["predicted_pairs"] == 6
    assert result["pairwise_precision"] == pytest.approx(4 / 6)
    assert result["pairwise_recall"] == 1.0
    p, r = 4 / 6, 1.0
    assert result["f1"] == pytest.approx(2 * p * r / (p + r))
    assert result["f05"] == pytest.approx(1.25 * p * r / (0.25 * p + r))
    # B-cubed precision per device: a1 2/3 (a1,a2,t1 of a1,a2,b1,t1... personal: a1,a2,b1 + t1)
    # a1: pred {a1,a2,b1,t1} truth {a1,a2,t1} -> 3/4; a2 same 3/4; b1: {b1,t1} of 4 -> 2/4;
    # t1: root has 4, all in h1 -> 4/4; c1: 1/1.  mean = (0.75+0.75+0.5+1+1)/5
    assert result["bcubed_precision"] == pytest.approx((0.75 + 0.75 + 0.5 + 1 + 1) / 5)
    assert result["bcubed_recall"] == 1.0
    assert result["over_merges"] == 1


def test_leaving_everything_alone_is_precise_but_recalls_nothing() -> None:
    profiles = [person(f"p{d}", [d]) for d in ("a1", "a2", "b1", "t1", "c1")]
    result = score(profiles, TRUTH)
    assert result["pairwise_precision"] == 1.0
    assert result["pairwise_recall"] == 0.0
    assert result["f1"] == 0.0
    # B-cubed recall: a1 1/3 (a1,a2,t1), a2 1/3, b1 1/2 (b1,t1), t1 1/4 (whole h1), c1 1
    assert result["bcubed_recall"] == pytest.approx((1 / 3 + 1 / 3 + 1 / 2 + 1 / 4 + 1) / 5)
    assert result["under_merges"] == 1


def test_the_tv_on_one_parent_misses_the_other_parent_but_is_not_wrong() -> None:
    profiles = [person("pA", ["a1", "a2", "t1"]), person("pB", ["b1"]), person("pC", ["c1"])]
    result = score(profiles, TRUTH)
    assert result["pairwise_precision"] == 1.0
    assert result["pairwise_recall"] == pytest.approx(3 / 4)


def test_by_rule_undoes_probabilistic_links_for_the_deterministic_view() -> None:
    profiles = [
        person("pA", ["a1", "a2"], "h", a2="probabilistic"),
        person("pB", ["b1"], "h"),
        household("h", ["t1"]),
        person("pC", ["c1"]),
    ]
    result = score(profiles, TRUTH)
    deterministic = result["by_rule"]["deterministic"]
    assert deterministic["predicted_pairs"] == 0
    assert deterministic["pairwise_precision"] == 1.0
    assert result["by_rule"]["with_probabilistic"]["pairwise_recall"] == 1.0


def test_shared_laptops_and_never_identified_share() -> None:
    truth = [
        *TRUTH,
        {
            "device_id": "l9",
            "household_id": "h1",
            "person_id": "A",
            "also_used_by": ["B"],
            "user_ids": ["uA", "uB"],
        },
    ]
    profiles = [person("pA", ["a1", "a2", "l9"]), person("pB", ["b1"]), person("pC", ["c1"])]
    result = score(profiles, truth)
    # l9 is shared (also_used_by): household-level, so (l9,b1) should be linked but is not.
    assert result["pairwise_precision"] == 1.0
    # personal devices: a1, a2, b1, c1, l9 (person_id set) -> never identified: a2, c1
    assert result["never_identified_share"] == pytest.approx(2 / 5)
    assert result["largest_profile"] == {"profile_id": "pA", "devices": 3}
    assert result["devices_unseen"] == 1
