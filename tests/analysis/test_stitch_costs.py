"""Messages that stitching errors cost, on hand-made decision rows.

The scene: Mason owns a phone (m-phone) and a laptop (m-laptop); Susan owns a
phone (s-phone) and a tablet (s-tablet); the family TV (tv) has no owner.
"""

from __future__ import annotations

from typing import Any

from sim.analysis.stitch_costs import stitching_costs

TRUTH: list[dict[str, Any]] = [
    {"device_id": "m-phone", "person_id": "mason"},
    {"device_id": "m-laptop", "person_id": "mason"},
    {"device_id": "s-phone", "person_id": "susan"},
    {"device_id": "s-tablet", "person_id": "susan"},
    {"device_id": "tv", "person_id": None},
]


def row(
    at: str, profile: str, device: str, campaign: str = "sale", decision: str = "sent"
) -> dict[str, Any]:
    return {
        "at": f"2026-11-02T{at}.000Z",
        "campaign": campaign,
        "profile_id": profile,
        "device_id": device,
        "decision": decision,
        "reason": "" if decision == "sent" else "dedup",
    }


def test_a_person_split_over_two_profiles_gets_the_campaign_twice_within_a_minute() -> None:
    rows = [
        row("10:00:00", "p1", "m-phone"),
        row("10:00:45", "p2", "m-laptop"),  # 45 s later, other device, other profile: repeat
        row("10:05:00", "p2", "m-laptop"),  # 255 s after the phone: too late to be one
        row("10:00:30", "p3", "s-phone", campaign="other"),  # another campaign
        row("10:00:50", "p1", "m-laptop", decision="suppressed"),  # not sent
        row("10:00:10", "p9", "tv"),  # no owner: never counted
    ]
    assert stitching_costs(rows, TRUTH)["split_profile_repeats"] == 1


def test_the_same_profile_or_the_same_device_twice_is_not_a_split() -> None:
    rows = [
        row("10:00:00", "p1", "m-phone"),
        row("10:00:20", "p1", "m-laptop"),  # same profile: the engine chose both
        row("10:01:30", "p2", "m-phone"),  # 70 s after the laptop: too late
        row("10:01:40", "p3", "m-phone"),  # 10 s after p2, but the same device
        row("10:02:40", "p4", "m-laptop"),  # exactly 60 s after the phone on p3: counts
    ]
    assert stitching_costs(rows, TRUTH)["split_profile_repeats"] == 1


def test_sends_from_a_fused_profile_to_the_other_person() -> None:
    rows = [
        # p1 holds Susan's phone and tablet and Mason's laptop: Susan is addressed most
        row("09:00:00", "p1", "s-phone"),
        row("09:30:00", "p1", "s-tablet", decision="suppressed"),
        row("10:00:00", "p1", "m-laptop"),  # sent to Mason from Susan's profile: counts
        row("11:00:00", "p1", "m-laptop"),  # again
        row("12:00:00", "p1", "s-phone"),  # to Susan herself: not counted
        row("12:30:00", "p1", "m-laptop", decision="suppressed"),  # not sent
        # p2 holds Mason's devices only: not fused
        row("10:00:00", "p2", "m-phone"),
        row("10:00:00", "p2", "m-laptop"),
        # p3 holds one device of each: a tie goes to the first addressed (Mason)
        row("08:00:00", "p3", "m-phone"),
        row("08:10:00", "p3", "s-phone"),  # counts
        row("08:20:00", "p3", "tv"),  # no owner
    ]
    assert stitching_costs(rows, TRUTH)["fused_profile_sends"] == 3
