"""The companion pass (sim/engine/identity/companion.py) on tiny hand-made homes.

A home network; a phone that never logs in, loose devices that never log in
either. The home alone never gives a loose device to a person (the brand may
see only one member of a family); a second network both used, or an outing
few others made, does, when it names exactly one person. A watch goes only
to a phone it can pair with.
"""

from __future__ import annotations

from typing import Any

from sim.engine.identity import IdentityConfig, IdentityGraph
from sim.engine.identity.pairing import paired

HOME = "73.20.0.9"
OFFICE = "81.30.0.5"
CARRIER = "174.1.2.3"


def event(
    device: str, kind: str, day: int, hour: int, minute: int, ip: str = HOME, maker: str = ""
) -> dict[str, Any]:
    spec: dict[str, Any] = {"id": device, "type": kind}
    if maker:
        spec["manufacturer"] = maker
    return {
        "type": "track",
        "event": "Screen Viewed",
        "messageId": f"{device}-{day}-{hour}-{minute}",
        "timestamp": f"2026-11-{2 + day:02d}T{hour:02d}:{minute:02d}:00.000Z",
        "anonymousId": f"anon-{device}",
        "context": {"device": spec, "ip": ip, "timezone": "UTC"},
    }


def home(
    devices: list[tuple[str, str, int]], days: int = 4, maker: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Each (device, type, hour) busy at that hour every evening."""
    makers = maker or {}
    return [
        event(device, kind, day, hour, minute, maker=makers.get(device, ""))
        for day in range(days)
        for device, kind, hour in devices
        for minute in (0, 20, 40)
    ]


def away(
    devices: list[str],
    kinds: dict[str, str],
    ip: str,
    hour: int,
    days: int = 2,
    maker: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The ``devices`` seen together on ``ip`` at ``hour`` on ``days`` weekdays."""
    makers = maker or {}
    return [
        event(d, kinds[d], day, hour, 5 + i, ip, makers.get(d, ""))
        for day in range(days)
        for i, d in enumerate(devices)
    ]


def stitched(events: list[dict[str, Any]], **config: Any) -> dict[str, dict[str, Any]]:
    graph = IdentityGraph(IdentityConfig(**config))
    graph.observe_all(sorted(events, key=lambda e: (e["timestamp"], e["messageId"])))
    graph.finalize()
    return {d: p.as_json() for p in graph.profiles() for d in p.device_ids}


def test_the_home_alone_leaves_the_laptop_apart() -> None:
    where = stitched(home([("p1", "phone", 19), ("lap", "laptop", 21), ("tv", "tv", 22)]))
    assert where["lap"]["profile_id"] != where["p1"]["profile_id"]
    assert where["tv"]["kind"] == "household"


def test_a_second_network_shared_with_the_one_phone_joins_the_laptop() -> None:
    kinds = {"p1": "phone", "lap": "laptop"}
    events = home([("p1", "phone", 19), ("lap", "laptop", 21)]) + away(
        ["p1", "lap"], kinds, OFFICE, 10
    )
    where = stitched(events)
    assert where["lap"]["profile_id"] == where["p1"]["profile_id"]
    assert where["p1"]["links"]["lap"] == "companion"


def test_two_phones_at_home_the_office_names_one() -> None:
    kinds = {"p1": "phone", "p2": "phone", "lap": "laptop"}
    events = home([("p1", "phone", 19), ("p2", "phone", 20), ("lap", "laptop", 21)])
    events += away(["p2", "lap"], kinds, OFFICE, 10)
    where = stitched(events)
    assert where["lap"]["profile_id"] == where["p2"]["profile_id"]
    assert where["lap"]["profile_id"] != where["p1"]["profile_id"]


def test_two_phones_both_corroborated_leave_the_laptop_where_it_was() -> None:
    kinds = {"p1": "phone", "p2": "phone", "lap": "laptop"}
    events = home([("p1", "phone", 19), ("p2", "phone", 20), ("lap", "laptop", 21)])
    events += away(["p1", "p2", "lap"], kinds, OFFICE, 10)
    where = stitched(events)
    assert where["lap"]["profile_id"] not in (where["p1"]["profile_id"], where["p2"]["profile_id"])


def test_a_watch_on_an_outing_with_its_phone_joins_it() -> None:
    """The carrier NAT is public (strangers use it all day), but in that window only the two."""
    kinds = {"p1": "phone", "w": "watch"}
    makers = {"p1": "Apple", "w": "Apple"}
    events = home([("p1", "phone", 19), ("w", "watch", 21)], maker=makers)
    events += away(["p1", "w"], kinds, CARRIER, 13, days=1, maker=makers)
    events += [event(f"s{i}", "phone", 3, 2, i, CARRIER) for i in range(14)]
    graph = IdentityGraph(IdentityConfig())
    graph.observe_all(sorted(events, key=lambda e: (e["timestamp"], e["messageId"])))
    graph.finalize()
    where = {d: p for p in graph.profiles() for d in p.device_ids}
    assert where["w"].profile_id == where["p1"].profile_id
    assert any("an outing" in r.reason for r in graph.merge_log)


def test_an_apple_watch_never_joins_an_android_phone() -> None:
    kinds = {"p1": "phone", "w": "watch"}
    makers = {"p1": "Samsung", "w": "Apple"}
    events = home([("p1", "phone", 19), ("w", "watch", 21)], maker=makers)
    events += away(["p1", "w"], kinds, OFFICE, 10, maker=makers)
    where = stitched(events)
    assert where["w"]["profile_id"] != where["p1"]["profile_id"]


def test_pairing_rules() -> None:
    assert paired("Apple", "Apple") and paired("Samsung", "Google") and paired("", "Apple")
    assert not paired("Apple", "Samsung") and not paired("Samsung", "Apple")


def test_without_the_ip_rule_nothing_moves() -> None:
    kinds = {"p1": "phone", "lap": "laptop"}
    events = home([("p1", "phone", 19), ("lap", "laptop", 21)]) + away(
        ["p1", "lap"], kinds, OFFICE, 10
    )
    where = stitched(events, rules={"ip": False, "time": True, "behaviour": True})
    assert where["lap"]["profile_id"] != where["p1"]["profile_id"]


def test_a_mac_goes_to_the_only_person_at_home_with_an_iphone() -> None:
    makers = {"p1": "Apple", "p2": "Samsung", "mac": "Apple", "pc": "HP"}
    devices = [
        ("p1", "phone", 19),
        ("p2", "phone", 20),
        ("mac", "laptop", 21),
        ("pc", "laptop", 22),
    ]
    where = stitched(home(devices, maker=makers))
    assert where["mac"]["profile_id"] == where["p1"]["profile_id"]
    assert where["p1"]["links"]["mac"] == "companion"
    assert where["pc"]["profile_id"] not in (where["p1"]["profile_id"], where["p2"]["profile_id"])


def test_a_mac_at_a_home_of_two_iphones_stays_apart() -> None:
    makers = {"p1": "Apple", "p2": "Apple", "mac": "Apple"}
    devices = [("p1", "phone", 19), ("p2", "phone", 20), ("mac", "laptop", 21)]
    where = stitched(home(devices, maker=makers))
    assert where["mac"]["profile_id"] not in (where["p1"]["profile_id"], where["p2"]["profile_id"])


def test_an_android_tablet_goes_to_the_only_person_with_a_phone_of_its_maker() -> None:
    makers = {"p1": "Apple", "p2": "Samsung", "tab": "Samsung"}
    devices = [("p1", "phone", 19), ("p2", "phone", 20), ("tab", "tablet", 21)]
    where = stitched(home(devices, maker=makers))
    assert where["tab"]["profile_id"] == where["p2"]["profile_id"]
    assert where["p2"]["links"]["tab"] == "companion"
    assert where["p1"]["profile_id"] != where["p2"]["profile_id"]


def test_an_android_tablet_at_a_home_of_two_phones_of_its_maker_stays_apart() -> None:
    makers = {"p1": "Samsung", "p2": "Samsung", "tab": "Samsung"}
    devices = [("p1", "phone", 19), ("p2", "phone", 20), ("tab", "tablet", 21)]
    where = stitched(home(devices, maker=makers))
    assert where["tab"]["profile_id"] not in (where["p1"]["profile_id"], where["p2"]["profile_id"])


def test_an_ipad_never_goes_by_its_maker_alone() -> None:
    makers = {"p1": "Apple", "p2": "Samsung", "tab": "Apple"}
    devices = [("p1", "phone", 19), ("p2", "phone", 20), ("tab", "tablet", 21)]
    where = stitched(home(devices, maker=makers))
    assert where["tab"]["profile_id"] not in (where["p1"]["profile_id"], where["p2"]["profile_id"])
