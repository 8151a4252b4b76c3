"""Cap violations are counted per TRUE person: two unstitched devices of one person show up."""

from __future__ import annotations

from typing import Any

from sim.analysis.messaging import cap_violations
from sim.engine.messaging.config import parse_campaigns

CAMPAIGN = {
    "name": "deal",
    "trigger": {"event": "Product Added"},
    "channels": ["push", "watch"],
    "caps": {"per_channel": 1, "total": 1, "window_hours": 24},
    "message": {"title": "Deal", "body": "A deal."},
}


def sent(profile: str, device: str, at: str) -> dict[str, Any]:
    return {
        "campaign": "deal",
        "profile_id": profile,
        "device_id": device,
        "decision": "sent",
        "at": at,
    }


def test_two_profiles_of_one_person_break_the_cap() -> None:
    campaigns = {c.name: c for c in parse_campaigns([CAMPAIGN], "t")}
    truth = [
        {"device_id": "phone", "device_type": "phone", "person_id": "kaylee", "household_id": "h1"},
        {"device_id": "watch", "device_type": "watch", "person_id": "kaylee", "household_id": "h1"},
        {"device_id": "tv", "device_type": "tv", "person_id": None, "household_id": "h1"},
        {"device_id": "other", "device_type": "phone", "person_id": "mason", "household_id": "h2"},
    ]
    decisions = [
        sent("p-1", "phone", "2026-11-02T14:00:00.000Z"),
        sent("p-2", "watch", "2026-11-02T14:00:00.000Z"),  # unstitched watch: a second buzz
        sent("p-3", "other", "2026-11-02T14:00:00.000Z"),
        sent("p-3", "other", "2026-11-03T15:00:00.000Z"),  # a day later: within the cap
    ]
    assert cap_violations(decisions, truth, campaigns) == (1, 1)
