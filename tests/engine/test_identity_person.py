"""The person-first pass (sim/engine/identity/person.py) on tiny hand-made homes.

One home network, two people who log in on their phones (A and B), sometimes
a third who never logs in (phone pX), and a device that never logs in or
that both log into. Evenings at home; each phone is busy at its own hours.
"""

from __future__ import annotations

from typing import Any

from sim.engine.identity import IdentityConfig, IdentityGraph

HOME = "73.20.0.1"


def event(
    device: str,
    kind: str,
    day: int,
    hour: int,
    minute: int,
    user: str | None = None,
    ip: str = HOME,
) -> dict[str, Any]:
    """A screen view from ``device`` at ``hour:minute`` on ``day``, from ``ip``, logged in as ``user``."""
    out: dict[str, Any] = {
        "type": "track",
        "event": "Screen Viewed",
        "messageId": f"{device}-{day}-{hour}-{minute}",
        "timestamp": f"2026-11-{2 + day:02d}T{hour:02d}:{minute:02d}:00.000Z",
        "anonymousId": f"anon-{device}",
        "context": {"device": {"id": device, "type": kind}, "ip": ip, "timezone": "UTC"},
    }
    if user is not None:
        out["userId"] = user
    return out


def evenings(extra: list[tuple[str, str, int, str | None]], days: int = 5) -> list[dict[str, Any]]:
    """A's phone busy 19:00-19:50, B's 21:00-21:50; ``extra``: (device, type, hour, user)."""
    events = []
    for day in range(days):
        for minute in range(0, 60, 10):
            events.append(event("pA", "phone", day, 19, minute, "uA"))
            events.append(event("pB", "phone", day, 21, minute, "uB"))
            for device, kind, hour, user in extra:
                events.append(event(device, kind, day, hour, minute, user))
    events.sort(key=lambda e: (e["timestamp"], e["messageId"]))
    return events


def stitched(events: list[dict[str, Any]], **config: Any) -> dict[str, dict[str, Any]]:
    graph = IdentityGraph(IdentityConfig(**config))
    graph.observe_all(events)
    graph.finalize()
    return {d: p.as_json() for p in graph.profiles() for d in p.device_ids}


def test_a_tablet_on_while_b_is_on_the_phone_goes_to_a() -> None:
    # the tablet is on at 21:00 with B's phone: A is the one not on the phone then
    where = stitched(evenings([("tab", "tablet", 21, None)]))
    assert where["tab"]["profile_id"] == where["pA"]["profile_id"]
    assert where["tab"]["links"]["tab"] == "turns"
    assert where["pB"]["profile_id"] != where["pA"]["profile_id"]


def test_a_tablet_on_with_both_phones_is_left_where_it_was() -> None:
    # on at 19:00 and 21:00: it sits next to both residents, so nobody is avoided
    events = evenings([("tab", "tablet", 19, None), ("tab", "tablet", 21, None)])
    for e in events:  # two events per slot for the tablet need distinct ids
        e["messageId"] += f"-{e['timestamp']}"
    where = stitched(events)
    assert where["tab"]["profile_id"] not in (where["pA"]["profile_id"], where["pB"]["profile_id"])


def test_an_unclaimed_phone_stands_for_a_person_the_tablet_may_take_turns_with() -> None:
    # a third phone sleeps here and never logs in (15:00); the tablet is on with A and
    # with B, never with the third person: it is theirs
    where = stitched(
        evenings(
            [("tab", "tablet", 19, None), ("tab", "tablet", 21, None), ("pX", "phone", 15, None)]
        )
    )
    assert where["tab"]["profile_id"] == where["pX"]["profile_id"]
    assert where["pX"]["user_ids"] == []


def test_a_tablet_that_avoids_two_people_alike_is_left_where_it_was() -> None:
    # on only with B; A (19:00) and the unclaimed phone (15:00) are both avoided
    where = stitched(evenings([("tab", "tablet", 21, None), ("pX", "phone", 15, None)]))
    assert where["tab"]["profile_id"] not in {where[d]["profile_id"] for d in ("pA", "pB", "pX")}


def test_a_laptop_two_accounts_use_goes_to_the_first_account_and_keeps_its_household() -> None:
    where = stitched(
        [*evenings([("lap", "laptop", 20, "uA")]), event("lap", "laptop", 6, 22, 0, "uB")]
    )
    a = where["pA"]
    assert where["lap"]["profile_id"] == a["profile_id"]
    assert a["links"]["lap"] == "primary_person"
    assert a["household_id"] is not None and a["household_id"] == where["pB"]["household_id"]


def test_a_tv_two_accounts_use_stays_on_the_household() -> None:
    where = stitched([*evenings([("tv", "tv", 20, "uA")]), event("tv", "tv", 6, 22, 0, "uB")])
    assert where["tv"]["kind"] == "household"


def test_an_unclaimed_phone_is_not_given_to_the_one_person_without_a_phone() -> None:
    # C logs in on a laptop only; one phone at home never logs in: two persons at
    # this home as far as the trace shows (a partner's phone is as likely as C's)
    where = stitched(evenings([("lapC", "laptop", 20, "uC"), ("pY", "phone", 17, None)]))
    assert where["pY"]["profile_id"] != where["lapC"]["profile_id"]
    assert where["pY"]["household_id"] == where["lapC"]["household_id"] is not None


def test_a_laptop_two_accounts_use_goes_to_the_account_behind_most_of_its_use() -> None:
    # B logs in first, once; A sends every other event on it: it is A's
    where = stitched(
        [event("lap", "laptop", 0, 6, 0, "uB"), *evenings([("lap", "laptop", 20, "uA")])]
    )
    assert where["lap"]["profile_id"] == where["pA"]["profile_id"]
    assert where["pA"]["links"]["lap"] == "primary_person"


def test_a_user_id_that_is_not_a_string_is_not_counted_and_does_not_raise() -> None:
    graph = IdentityGraph(IdentityConfig())
    graph.observe(event("lap", "laptop", 0, 6, 0, "uA"))
    bad = event("lap", "laptop", 0, 6, 10, None)
    bad["userId"] = ["uA"]
    graph.observe(bad)
    graph.observe(event("lap", "laptop", 0, 6, 20, "uA"))
    assert graph.state.devices["lap"].user_events == {"uA": 2}


def test_the_inlined_account_count_matches_used_by() -> None:
    # graph.observe counts inline (NOTE in graph.py); DeviceEvidence.used_by is the definition
    events = [event("lap", "laptop", 0, 6, m, u) for m, u in ((0, "uA"), (10, "uB"), (20, "uA"))]
    events.append(event("lap", "laptop", 0, 6, 30, None))
    graph = IdentityGraph(IdentityConfig())
    graph.observe_all(events)
    card = graph.state.devices["lap"]
    inline = card.user_events
    card.user_events = dict.fromkeys(card.users, 0)
    for e in events:
        card.used_by(e.get("userId"))
    assert inline == card.user_events == {"uA": 2, "uB": 1}
    assert card.main_user() == "uA"
