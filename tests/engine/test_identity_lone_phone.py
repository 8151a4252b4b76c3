"""The one-person-home pass (sim/engine/identity/lone_phone.py) on tiny hand-made homes.

One home network; a phone that never logs in, loose devices that never log
in either. One phone at home: the loose laptop is its person's. Two phones
(two persons): nobody can tell, the laptop stays where it was.
"""

from __future__ import annotations

from typing import Any

from sim.engine.identity import IdentityConfig, IdentityGraph

HOME = "73.20.0.9"


def event(device: str, kind: str, day: int, hour: int, minute: int) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Screen Viewed",
        "messageId": f"{device}-{day}-{hour}-{minute}",
        "timestamp": f"2026-11-{2 + day:02d}T{hour:02d}:{minute:02d}:00.000Z",
        "anonymousId": f"anon-{device}",
        "context": {"device": {"id": device, "type": kind}, "ip": HOME, "timezone": "UTC"},
    }


def home(devices: list[tuple[str, str, int]], days: int = 4) -> list[dict[str, Any]]:
    """Each (device, type, hour) busy at that hour every evening."""
    events = [
        event(device, kind, day, hour, minute)
        for day in range(days)
        for device, kind, hour in devices
        for minute in (0, 20, 40)
    ]
    return sorted(events, key=lambda e: (e["timestamp"], e["messageId"]))


def stitched(events: list[dict[str, Any]], **config: Any) -> dict[str, dict[str, Any]]:
    graph = IdentityGraph(IdentityConfig(**config))
    graph.observe_all(events)
    graph.finalize()
    return {d: p.as_json() for p in graph.profiles() for d in p.device_ids}


def test_the_loose_laptop_at_a_one_phone_home_joins_the_phone() -> None:
    where = stitched(home([("p1", "phone", 19), ("lap", "laptop", 21), ("tv", "tv", 22)]))
    assert where["lap"]["profile_id"] == where["p1"]["profile_id"]
    assert where["p1"]["links"]["lap"] == "lone_phone"
    assert where["tv"]["kind"] == "household"


def test_a_watch_at_a_one_phone_home_is_left_alone() -> None:
    where = stitched(home([("p1", "phone", 19), ("w", "watch", 21)]))
    assert where["w"]["profile_id"] != where["p1"]["profile_id"]


def test_two_phones_at_home_leave_the_laptop_where_it_was() -> None:
    where = stitched(home([("p1", "phone", 19), ("p2", "phone", 20), ("lap", "laptop", 21)]))
    assert where["lap"]["profile_id"] not in (where["p1"]["profile_id"], where["p2"]["profile_id"])


def test_without_the_ip_rule_nothing_moves() -> None:
    events = home([("p1", "phone", 19), ("lap", "laptop", 21)])
    where = stitched(events, rules={"ip": False, "time": True, "behaviour": True})
    assert where["lap"]["profile_id"] != where["p1"]["profile_id"]
