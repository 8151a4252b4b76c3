"""Deterministic identity rules on tiny hand-built event lists.

Each test is a small scene: a phone and a laptop, a junk id, a partner who
logs in on someone else's laptop, and checks the exact profiles and the
merge log the graph produces.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from sim.engine.identity import IdentityConfig, IdentityGraph
from sim.engine.identity.identifiers import JUNK_VALUES


def ev(
    kind: str = "track",
    anon: Any = None,
    device: Any = None,
    user: Any = None,
    at: str = "2026-11-02T19:00:00.000Z",
    ip: str = "73.1.1.1",
    **extra: Any,
) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind, "messageId": f"m-{anon}-{device}-{at}", "timestamp": at}
    if anon is not None:
        event["anonymousId"] = anon
    if user is not None:
        event["userId"] = user
    context: dict[str, Any] = {"ip": ip, "timezone": "UTC"}
    if device is not None:
        context["device"] = {"id": device, "type": "phone"}
    event["context"] = context
    if kind == "track":
        event.setdefault("event", "Product Viewed")
    event.update(extra)
    return event


def graph(**table: Any) -> IdentityGraph:
    return IdentityGraph(IdentityConfig.from_mapping(table, "test.toml"))


def test_login_links_an_install_id_and_device_to_the_account() -> None:
    g = graph()
    g.observe(ev(anon="a1", device="d1"))
    g.observe(ev("identify", anon="a1", device="d1", user="u1"))
    g.observe(ev(anon="a2", device="d2"))
    g.observe(ev(anon="a2", device="d2", user="u1"))
    pid = g.profile_of("userId", "u1")
    assert pid is not None
    assert g.profile_of("anonymousId", "a1") == pid
    assert g.profile_of("deviceId", "d2") == pid
    [profile] = g.profiles()
    assert sorted(profile.device_ids) == ["d1", "d2"]
    assert profile.user_ids == ("u1",)
    assert any(r.action == "merge" and r.rule == "login" for r in g.merge_log)


@pytest.mark.parametrize("junk", sorted(JUNK_VALUES | {"00000000-0000-0000-0000-000000000000"}))
def test_a_junk_user_id_never_links_two_devices(junk: str) -> None:
    g = graph()
    g.observe(ev(anon="a1", device="d1", user=junk))
    g.observe(ev(anon="a2", device="d2", user=junk))
    assert g.profile_of("deviceId", "d1") != g.profile_of("deviceId", "d2")
    assert sum(g.stats()["rejected"].values()) == 2
    assert any(r.rule == "blocklist" and r.action == "reject" for r in g.merge_log)


def test_junk_install_ids_in_any_case_are_blocked() -> None:
    g = graph()
    for i, junk in enumerate(["NULL", " undefined ", "Anonymous", "0000", ""]):
        g.observe(ev(anon=junk, device=f"d{i}"))
    assert len(g.profiles()) == 5
    assert g.stats()["rejected"] == {
        "anonymousId: junk value": 4,
        "anonymousId: junk value (all zeros)": 1,
    }


def test_scenario_blocked_values_extend_the_blocklist() -> None:
    g = graph(blocked_values=["PLACEHOLDER"])
    g.observe(ev(anon="a1", device="d1", user="placeholder"))
    g.observe(ev(anon="a2", device="d2", user="placeholder"))
    assert len(g.profiles()) == 2


def test_bad_input_is_counted_never_raised() -> None:
    g = graph()
    g.observe(ev(anon="x" * 300, device="d1"))
    g.observe(ev(anon=["a", "list"], device="d2"))
    g.observe(ev(anon={"a": 1}, device="d3", user=True))
    g.observe({"type": "track", "event": "Nobody"})
    g.observe("not an event")  # type: ignore[arg-type]
    stats = g.stats()
    assert stats["rejected"]["anonymousId: absurd length 300 > 256"] == 1
    assert stats["rejected"]["event: no usable anonymousId, userId or device id"] == 1
    assert stats["rejected"]["event: event is not an object"] == 1
    assert stats["events"] == 5
    assert [p.device_ids for p in g.profiles()] == [("d1",), ("d2",), ("d3",)]


def test_alias_links_the_previous_install_id_to_the_account() -> None:
    g = graph()
    g.observe(ev(anon="a1", device="d1"))
    g.observe(ev(anon="a9", device="d9", user="u1"))
    g.observe(
        {
            "type": "alias",
            "previousId": "a1",
            "userId": "u1",
            "timestamp": "2026-11-02T19:00:00.000Z",
        }
    )
    assert g.profile_of("anonymousId", "a1") == g.profile_of("userId", "u1")
    assert any(r.rule == "alias" and r.action == "merge" for r in g.merge_log)


def test_alias_loops_do_not_crash_or_fuse_accounts() -> None:
    g = graph()
    g.observe(ev(anon="a1", device="d1", user="u1"))
    g.observe(ev(anon="a2", device="d2", user="u2"))
    for prev, new in [("u1", "u2"), ("u2", "u1"), ("u1", "u1")]:
        g.observe({"type": "alias", "previousId": prev, "userId": new})
    assert g.profile_of("userId", "u1") != g.profile_of("userId", "u2")
    assert any(r.action == "refuse" and "userId limit 1" in r.reason for r in g.merge_log)


def test_emails_are_normalised_hashed_and_never_stored_raw() -> None:
    g = graph()
    g.observe(ev("identify", anon="a1", device="d1", traits={"email": " Mason@Example.COM "}))
    g.observe(ev("identify", anon="a2", device="d2", traits={"email": "mason@example.com"}))
    digest = hashlib.sha256(b"mason@example.com").hexdigest()
    [profile] = g.profiles()
    assert profile.email_hashes == (digest,)
    assert g.profile_of("email", "MASON@example.com") == profile.profile_id
    dumped = json.dumps([p.as_json() for p in g.profiles()]) + repr(g.merge_log)
    assert "mason@" not in dumped.lower()


def test_phones_are_reduced_to_digits_before_hashing() -> None:
    g = graph()
    g.observe(ev("identify", anon="a1", device="d1", traits={"phone": "+1 (555) 010-2030"}))
    g.observe(ev("identify", anon="a2", device="d2", traits={"phone": "15550102030"}))
    g.observe(ev("identify", anon="a3", device="d3", traits={"phone": "000-0000"}))
    assert g.profile_of("deviceId", "d1") == g.profile_of("deviceId", "d2")
    assert g.profile_of("phone", "1-555-010-2030") == g.profile_of("deviceId", "d1")
    assert g.stats()["rejected"] == {"phone: not a phone number": 1}


def test_a_second_account_on_a_device_is_refused_dropping_the_lowest_priority_ids() -> None:
    g = graph()
    g.observe(ev(anon="a1", device="laptop", user="mason"))
    g.observe(ev(anon="a2", device="laptop", user="susan"))
    mason, susan = g.profile_of("userId", "mason"), g.profile_of("userId", "susan")
    assert mason != susan
    assert g.profile_of("deviceId", "laptop") == mason
    assert g.profile_of("anonymousId", "a2") is None
    refusals = [r for r in g.merge_log if r.action == "refuse"]
    assert [r.reason.split("dropped lowest-priority ")[1] for r in refusals] == [
        "anonymousId=a2",
        "deviceId=laptop",
    ]
    assert all(r.reason.startswith("userId limit 1 would be exceeded (2)") for r in refusals)


def test_the_device_limit_drops_the_new_device_not_the_account() -> None:
    g = graph(max_device_ids=2)
    for i in range(3):
        g.observe(ev(anon=f"a{i}", device=f"d{i}", user="u1"))
    [profile] = [p for p in g.profiles() if "u1" in p.user_ids]
    assert sorted(profile.device_ids) == ["d0", "d1"]
    assert g.profile_of("deviceId", "d2") is None
    assert all(len(p.device_ids) <= 2 for p in g.profiles())


def test_priority_decides_which_identifier_is_dropped_first() -> None:
    g = graph(priority=["userId", "email", "phone", "anonymousId", "deviceId"])
    g.observe(ev(anon="a1", device="laptop", user="mason"))
    g.observe(ev(anon="a2", device="laptop", user="susan"))
    first = next(r for r in g.merge_log if r.action == "refuse")
    assert first.reason.endswith("dropped lowest-priority deviceId=laptop")
    assert g.profile_of("anonymousId", "a2") == g.profile_of("userId", "susan")


def test_a_device_two_accounts_use_makes_a_household_and_stays_with_its_first_account() -> None:
    g = graph(probabilistic=False)
    g.observe(ev(anon="a1", device="laptop", user="mason"))
    g.observe(ev(anon="b1", device="phone-m", user="mason"))
    g.observe(ev(anon="a2", device="laptop", user="susan"))
    g.finalize()
    by_kind = {p.kind: p for p in g.profiles() if p.kind == "household"}
    household = by_kind["household"]
    assert len(household.members) == 2
    # protection takes the laptop to the household; the person-first pass gives it back
    # to its primary person (the first account on it), who is a member of that household
    mason = next(p for p in g.profiles() if "mason" in p.user_ids)
    susan = next(p for p in g.profiles() if "susan" in p.user_ids)
    assert mason.device_ids == ("phone-m", "laptop")
    assert mason.links == {"phone-m": "deterministic", "laptop": "primary_person"}
    assert mason.household_id == susan.household_id == household.profile_id
    assert household.device_ids == ()
    rules = [(r.rule, r.action) for r in g.merge_log if "laptop" in " ".join(r.ids)]
    assert rules[-2:] == [("shared_device", "attach"), ("primary_person", "attach")]


def test_replaying_the_same_events_changes_nothing() -> None:
    events = [
        ev(anon="a1", device="d1"),
        ev("identify", anon="a1", device="d1", user="u1", traits={"email": "x@y.z"}),
        ev(anon="a2", device="d2", user="u1"),
        ev(anon="a3", device="d1", user="u2"),
    ]
    g = graph()
    g.observe_all(events)
    once = [p.as_json() for p in g.profiles()]
    g.observe_all(events)
    assert [p.as_json() for p in g.profiles()] == once


def test_deterministic_off_keeps_each_device_alone() -> None:
    g = graph(deterministic=False, probabilistic=False)
    g.observe(ev(anon="a1", device="d1", user="u1"))
    g.observe(ev(anon="a2", device="d2", user="u1"))
    assert len(g.profiles()) == 2
    assert g.profile_of("userId", "u1") is None


def test_profile_of_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        graph().profile_of("cookie", "x")
