"""Stitching metrics checked against values worked out by hand.

The scene: household h1 with persons A (phone a1, laptop a2) and B (phone
b1), a family TV (t1, shared); household h2 with person C (phone c1).
"""

from __future__ import annotations

from typing import Any

import pytest

from sim.analysis.stitching import score

TRUTH: list[dict[str, Any]] = [
    {
        "device_id": "a1",
        "device_type": "phone",
        "household_id": "h1",
        "person_id": "A",
        "user_ids": ["uA"],
    },
    {
        "device_id": "a2",
        "device_type": "laptop",
        "household_id": "h1",
        "person_id": "A",
        "user_ids": [],
    },
    {
        "device_id": "b1",
        "device_type": "phone",
        "household_id": "h1",
        "person_id": "B",
        "user_ids": ["uB"],
    },
    {
        "device_id": "t1",
        "device_type": "tv",
        "household_id": "h1",
        "person_id": None,
        "user_ids": [],
    },
    {
        "device_id": "c1",
        "device_type": "tablet",
        "household_id": "h2",
        "person_id": "C",
        "user_ids": [],
    },
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
    result = score(profiles, TRUTH)["household_level"]
    # true pairs: (a1,a2) person-level; (t1,a1) (t1,a2) (t1,b1) household-level = 4
    assert result["true_pairs"] == 4 and result["correct_pairs"] == 4
    for key in ("pairwise_precision", "pairwise_recall", "f1", "f05", "bcubed_f1"):
        assert result[key] == 1.0
    assert result["over_merges"] == 0 and result["under_merges"] == 0


def test_fusing_the_family_into_one_person_costs_precision() -> None:
    profiles = [person("p1", ["a1", "a2", "b1", "t1"]), person("pC", ["c1"])]
    result = score(profiles, TRUTH)["household_level"]
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
    result = score(profiles, TRUTH)["household_level"]
    assert result["pairwise_precision"] == 1.0
    assert result["pairwise_recall"] == 0.0
    assert result["f1"] == 0.0
    # B-cubed recall: a1 1/3 (a1,a2,t1), a2 1/3, b1 1/2 (b1,t1), t1 1/4 (whole h1), c1 1
    assert result["bcubed_recall"] == pytest.approx((1 / 3 + 1 / 3 + 1 / 2 + 1 / 4 + 1) / 5)
    assert result["under_merges"] == 1


def test_the_tv_on_one_parent_misses_the_other_parent_but_is_not_wrong() -> None:
    profiles = [person("pA", ["a1", "a2", "t1"]), person("pB", ["b1"]), person("pC", ["c1"])]
    result = score(profiles, TRUTH)["household_level"]
    assert result["pairwise_precision"] == 1.0
    assert result["pairwise_recall"] == pytest.approx(3 / 4)


def test_by_rule_undoes_probabilistic_links_for_the_deterministic_view() -> None:
    profiles = [
        person("pA", ["a1", "a2"], "h", a2="probabilistic"),
        person("pB", ["b1"], "h"),
        household("h", ["t1"]),
        person("pC", ["c1"]),
    ]
    result = score(profiles, TRUTH)["household_level"]
    deterministic = result["by_rule"]["deterministic"]
    assert deterministic["predicted_pairs"] == 0
    assert deterministic["pairwise_precision"] == 1.0
    assert result["by_rule"]["with_probabilistic"]["pairwise_recall"] == 1.0


def test_shared_laptops_and_never_identified_share() -> None:
    truth = [
        *TRUTH,
        {
            "device_id": "l9",
            "device_type": "laptop",
            "household_id": "h1",
            "person_id": "A",
            "also_used_by": ["B"],
            "user_ids": ["uA", "uB"],
        },
    ]
    profiles = [person("pA", ["a1", "a2", "l9"]), person("pB", ["b1"]), person("pC", ["c1"])]
    result = score(profiles, truth)
    # l9 is shared (also_used_by): household-level, so (l9,b1) should be linked but is not.
    assert result["household_level"]["pairwise_precision"] == 1.0
    # personal devices: a1, a2, b1, c1, l9 (person_id set) -> never identified: a2, c1
    assert result["never_identified_share"] == pytest.approx(2 / 5)
    assert result["largest_profile"] == {"profile_id": "pA", "devices": 3}
    assert result["devices_unseen"] == 1


# Person level (ICDM 2015). The scene: household h1 with A (phone a1, laptop a2,
# watch a3) and B (phone b1, tablet b2 that A also uses), a family TV t1 with no
# owner; household h2 with C (phone c1, car c2).
PERSON_TRUTH: list[dict[str, Any]] = [
    {"device_id": "a1", "device_type": "phone", "household_id": "h1", "person_id": "A"},
    {"device_id": "a2", "device_type": "laptop", "household_id": "h1", "person_id": "A"},
    {"device_id": "a3", "device_type": "watch", "household_id": "h1", "person_id": "A"},
    {"device_id": "b1", "device_type": "phone", "household_id": "h1", "person_id": "B"},
    {
        "device_id": "b2",
        "device_type": "tablet",
        "household_id": "h1",
        "person_id": "B",
        "also_used_by": ["A"],
    },
    {"device_id": "t1", "device_type": "tv", "household_id": "h1", "person_id": None},
    {"device_id": "c1", "device_type": "phone", "household_id": "h2", "person_id": "C"},
    {"device_id": "c2", "device_type": "car", "household_id": "h2", "person_id": "C"},
]


def test_person_level_perfect_answer_scores_one_and_ignores_the_ownerless_tv() -> None:
    profiles = [
        person("pA", ["a1", "a2", "a3"], "h"),
        person("pB", ["b1", "b2"], "h"),
        household("h", ["t1"]),
        person("pC", ["c1", "c2"]),
    ]
    result = score(profiles, PERSON_TRUTH)["person_level"]
    # owned devices: 7 (t1 has no owner); true pairs A 3 + B 1 + C 1 = 5
    assert result["devices_scored"] == 7
    assert result["true_pairs"] == 5 and result["correct_pairs"] == 5
    for key in ("pairwise_precision", "pairwise_recall", "f05", "bcubed_f1"):
        assert result[key] == 1.0
    assert (result["fused_profiles"], result["person_profiles"]) == (0, 3)
    assert {k: v["share"] for k, v in result["by_device_type"].items()} == {
        "car": 1.0,
        "laptop": 1.0,
        "tablet": 1.0,
        "watch": 1.0,
    }


def test_person_level_counts_a_household_parked_device_as_linked_to_no_one() -> None:
    profiles = [
        person("pA", ["a1", "a2", "t1"]),
        person("pB", ["b1"]),
        household("h", ["b2"]),
        person("pX", ["a3", "c2"]),  # A's watch fused with C's car
        person("pC", ["c1"]),
    ]
    result = score(profiles, PERSON_TRUTH)
    level = result["person_level"]
    # clusters {a1,a2} {b1} {b2} {a3,c2} {c1}: predicted 2, true 5, correct 1 (a1-a2)
    assert (level["predicted_pairs"], level["true_pairs"], level["correct_pairs"]) == (2, 5, 1)
    assert level["pairwise_precision"] == pytest.approx(1 / 2)
    assert level["pairwise_recall"] == pytest.approx(1 / 5)
    assert level["f1"] == pytest.approx(2 / 7)
    assert level["f05"] == pytest.approx(5 / 13)
    # B-cubed precision: a1 1, a2 1, a3 1/2, b1 1, b2 1, c1 1, c2 1/2 -> 6/7
    assert level["bcubed_precision"] == pytest.approx(6 / 7)
    # recall: a1 2/3, a2 2/3, a3 1/3, b1 1/2, b2 1/2, c1 1/2, c2 1/2 -> 11/21
    assert level["bcubed_recall"] == pytest.approx(11 / 21)
    # person profiles with devices: pA, pB, pX (A and C), pC
    assert (level["fused_profiles"], level["person_profiles"]) == (1, 4)
    assert level["fused_share"] == pytest.approx(1 / 4)
    # strictly personal leaves out b2 (A also uses it): true pairs A 3 + C 1 = 4
    strict = level["strictly_personal"]
    assert (strict["devices_scored"], strict["true_pairs"], strict["correct_pairs"]) == (6, 4, 1)
    assert strict["pairwise_recall"] == pytest.approx(1 / 4)
    # with the owner's phone: laptop yes; watch, tablet (on the household), car no;
    # phones are left out (no owner has a second phone)
    assert level["by_device_type"] == {
        "car": {"devices": 1, "with_owner_phone": 0, "share": 0.0},
        "laptop": {"devices": 1, "with_owner_phone": 1, "share": 1.0},
        "tablet": {"devices": 1, "with_owner_phone": 0, "share": 0.0},
        "watch": {"devices": 1, "with_owner_phone": 0, "share": 0.0},
    }
    # the household level scores the same profiles differently: b2 is shared there
    assert result["household_level"]["f05"] != level["f05"]


def test_person_level_by_rule_splits_probabilistic_links_off() -> None:
    profiles = [
        person("pA", ["a1", "a2", "a3"], a3="probabilistic"),
        person("pB", ["b1", "b2"], b2="turns"),
        person("pC", ["c1", "c2"]),
    ]
    by_rule = score(profiles, PERSON_TRUTH)["person_level"]["by_rule"]
    # deterministic view: a3 and b2 alone -> predicted a1-a2, c1-c2 = 2, all correct, of 5
    assert by_rule["deterministic"]["pairwise_precision"] == 1.0
    assert by_rule["deterministic"]["pairwise_recall"] == pytest.approx(2 / 5)
    assert by_rule["with_probabilistic"]["pairwise_recall"] == 1.0


def test_a_truth_row_without_a_device_type_is_refused_by_number() -> None:
    from sim.trace.truth import TruthError

    rows = [*TRUTH, {"device_id": "x1", "household_id": "h9", "person_id": "X"}]
    with pytest.raises(TruthError, match=r"truth row 6: expected string keys"):
        score([], rows)
