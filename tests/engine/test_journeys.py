"""Journeys: validation names journey, step and key; the walker on the real engine, no mocks."""

from __future__ import annotations

from typing import Any

import pytest

from sim.analysis.journeys import step_kinds, summary, walked_twice
from sim.engine.engine import Engine
from sim.engine.messaging import Messenger, build_messaging
from sim.errors import ConfigError
from tests.engine.test_messaging import MSG, START, campaign, event, granted, hours, run_ticks

WHERE = "scenarios/j.toml"


def journey(*steps: dict[str, Any], **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "cart",
        "entry": {"event": "Product Added"},
        "goal": {"event": "Order Completed", "window_hours": 48},
        "channels": ["push"],
        "caps": {"per_channel": 5, "total": 5},
        "quiet_hours": {"start": "00:00", "end": "00:00"},
        "steps": list(steps),
    }
    return base | over


def msg(sid: str, nxt: str = "", **over: Any) -> dict[str, Any]:
    return {"id": sid, "kind": "message", "message": dict(MSG), "next": nxt} | over


def wait(sid: str, nxt: str, **how: Any) -> dict[str, Any]:
    return {"id": sid, "kind": "wait", "next": nxt} | (how or {"minutes": 60})


def problems(*journeys: dict[str, Any], campaigns: list[dict[str, Any]] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        build_messaging(campaigns or [], WHERE, list(journeys))
    return str(caught.value)


def setup(*journeys: dict[str, Any]) -> tuple[Engine, Messenger]:
    messenger = build_messaging([], WHERE, list(journeys))
    assert messenger is not None
    messenger.bind_start(START)
    return Engine({}, messaging=messenger), messenger


def rows(messenger: Messenger, what: str = "") -> list[dict[str, Any]]:
    return [r for r in messenger.journey_rows() if not what or r["event"] == what]


def sent(messenger: Messenger) -> list[str]:
    return [str(d["step"]) for d in messenger.decisions if d["decision"] == "sent"]


# ---- validation: one test per problem ------------------------------------------------------


def test_branch_to_missing_id_names_journey_step_and_key() -> None:
    text = problems(journey(msg("push", "later")))
    assert "scenarios/j.toml: journeys[0] (cart).steps (push).next" in text
    assert "'later'" in text


def test_unreachable_step() -> None:
    text = problems(journey(msg("push"), msg("orphan")))
    assert "journeys[0] (cart).steps (orphan): unreachable from the start step 'push'" in text


def test_loop_without_a_wait() -> None:
    split = {"id": "check", "kind": "split", "on": "opened", "yes": "push", "no": "push"}
    text = problems(journey(msg("push", "check"), split))
    assert "steps (check): a loop without a wait (check -> push -> check)" in text


def test_loop_with_a_wait_is_fine() -> None:
    split = {"id": "check", "kind": "split", "on": "opened", "yes": "end", "no": "nap"}
    end = {"id": "end", "kind": "exit"}
    messenger = build_messaging(
        [], WHERE, [journey(msg("push", "check"), split, wait("nap", "push"), end)]
    )
    assert messenger is not None


def test_unknown_kind_and_step_key() -> None:
    text = problems(journey({"id": "a", "kind": "teleport"}, msg("b", colour="red")))
    assert "steps[0] (a).kind: expected one of" in text
    assert "steps[1] (b).colour: expected a key of a message step" in text


def test_duplicate_step_id() -> None:
    text = problems(journey(msg("a"), msg("a")))
    assert "steps[1] (a).id: expected a step id used once" in text


def test_experiment_shares_must_sum_to_100() -> None:
    arms = [{"name": "a", "share": 50, "next": "m"}, {"name": "b", "share": 30, "next": "m"}]
    text = problems(journey({"id": "x", "kind": "experiment", "paths": arms}, msg("m")))
    assert "steps[0] (x).paths: expected shares that sum to 100, got 80.0" in text


def test_wait_needs_exactly_one_mode() -> None:
    text = problems(journey(wait("w", "m", minutes=5, hours=1), msg("m")))
    assert "steps[0] (w): expected exactly one of minutes, hours, until_local, event" in text


def test_wait_for_an_unknown_event() -> None:
    text = problems(journey(wait("w", "m", event="Cart Abandoned"), msg("m")))
    assert "steps[0] (w).event: expected a known event name" in text


def test_random_split_needs_a_share() -> None:
    split = {"id": "s", "kind": "split", "on": "random", "percent": 100, "yes": "m", "no": "m"}
    assert "steps[0] (s).percent" in problems(journey(split, msg("m")))


def test_entry_needs_one_kind() -> None:
    text = problems(journey(msg("m"), entry={"event": "Product Added", "segment": True}))
    assert (
        "journeys[0] (cart).entry: expected exactly one of event, at, local_time, segment" in text
    )


def test_message_step_checked_like_a_campaign() -> None:
    text = problems(journey(msg("m", channels=["fax"], caps={"total": 0})))
    assert "journeys[0] (cart).steps[0] (m).channels" in text
    assert "journeys[0] (cart).steps[0] (m).caps.total" in text


def test_message_step_may_not_shadow_a_campaign() -> None:
    text = problems(journey(msg("m")), campaigns=[campaign(name="cart/m")])
    assert "message step 'cart/m' has the name of a campaign" in text


def test_entry_moment_before_start_fails_at_bind() -> None:
    messenger = build_messaging([], WHERE, [journey(msg("m"), entry={"at": "2026-10-01T00:00Z"})])
    assert messenger is not None
    unbound = messenger.clock
    with pytest.raises(ConfigError) as caught:
        messenger.bind_start(START)
    assert caught.value.problems == [
        "scenarios/j.toml: journeys (cart).entry.at: expected a moment at or after the scenario"
        " start 2026-11-02T00:00:00+00:00, got 2026-10-01T00:00:00+00:00"
    ]
    assert messenger.clock is unbound  # checked before anything is bound


def test_past_campaign_and_journey_moments_are_reported_together() -> None:
    past = {"at": "2026-10-01T00:00Z"}
    messenger = build_messaging(
        [campaign(name="flash", trigger=past)],
        WHERE,
        [journey(msg("m"), entry=past)],
    )
    assert messenger is not None
    with pytest.raises(ConfigError) as caught:
        messenger.bind_start(START)
    keys = [p.split(": ")[1] for p in caught.value.problems]
    assert keys == ["campaigns (flash).trigger.at", "journeys (cart).entry.at"]


# ---- the walker ----------------------------------------------------------------------------


def test_message_wait_message_and_the_rows() -> None:
    engine, messenger = setup(journey(msg("first", "nap"), wait("nap", "second"), msg("second")))
    granted(engine, "ph", hours(1))
    engine.ingest(event("ph", hours(1) + 5, "Product Added"))
    out = run_ticks(engine, hours(1), hours(3))
    assert [d.campaign for d in out] == ["cart/first", "cart/second"]
    assert out[1].at - out[0].at == pytest.approx(hours(1), abs=60)
    assert sent(messenger) == ["first", "second"]
    moves = [(r["event"], r["step"], r["to"]) for r in rows(messenger)]
    assert moves == [
        ("entered", "first", "first"),
        ("advanced", "first", "nap"),
        ("advanced", "nap", "second"),
        ("advanced", "second", ""),
        ("exited", "", ""),
    ]


def test_wait_until_local_time() -> None:
    engine, messenger = setup(journey(wait("w", "m", until_local="09:00"), msg("m")))
    granted(engine, "ph", hours(20))  # 2026-11-02 20:00 UTC = 15:00 in New York
    engine.ingest(event("ph", hours(20), "Product Added"))
    out = run_ticks(engine, hours(20), hours(40))
    assert len(out) == 1
    assert messenger.clock.local_minute(out[0].at, "America/New_York") == 9 * 60


def test_wait_for_an_event_or_time_out() -> None:
    steps = (
        wait("w", "yes", event="Cart Viewed", timeout_hours=2, timeout_next="no"),
        msg("yes"),
        msg("no"),
    )
    engine, messenger = setup(journey(*steps))
    granted(engine, "ph", 0)
    engine.ingest(event("ph", 60, "Product Added"))
    engine.ingest(event("ph", 600, "Cart Viewed"))
    granted(engine, "p2", 0, user="u-2")
    engine.ingest(event("p2", 60, "Product Added", user="u-2"))
    run_ticks(engine, 0, hours(3))
    labels = sorted(r["label"] for r in rows(messenger, "advanced") if r["step"] == "w")
    assert labels == ["event", "timeout"]
    assert sorted(sent(messenger)) == ["no", "yes"]


def test_split_on_opened_sees_every_stitched_device() -> None:
    """The watch's open and the phone's entry are one person once both sign in."""
    split = {"id": "seen", "kind": "split", "on": "opened", "yes": "done", "no": "again"}
    steps = (msg("first", "w"), wait("w", "seen", hours=2), split,
             {"id": "done", "kind": "exit"}, msg("again"))  # fmt: skip
    engine, messenger = setup(journey(*steps))
    granted(engine, "ph", 0)
    engine.ingest(event("ph", 60, "Product Added"))
    run_ticks(engine, 0, 120)
    engine.ingest(event("wa", 120, "Signed In", kind="watch"))
    opened = event("wa", 1800, "Watch Notification Opened", kind="watch", campaign="cart/first")
    engine.ingest(opened)
    run_ticks(engine, 180, hours(3))
    assert [r["to"] for r in rows(messenger, "advanced") if r["step"] == "seen"] == ["done"]


def _seen_way(extra: dict[str, Any], opened_campaign: str) -> str:
    split = {"id": "seen", "kind": "split", "on": "opened", "yes": "done", "no": "again"}
    steps = (msg("first", "w"), wait("w", "seen", hours=2), split | extra,
             {"id": "done", "kind": "exit"}, msg("again"))  # fmt: skip
    engine, messenger = setup(journey(*steps))
    granted(engine, "ph", 0)
    engine.ingest(event("ph", 60, "Product Added"))
    run_ticks(engine, 0, 120)
    engine.ingest(event("ph", 900, "Push Notification Tapped", campaign=opened_campaign))
    run_ticks(engine, 180, hours(3))
    (way,) = [r["to"] for r in rows(messenger, "advanced") if r["step"] == "seen"]
    return str(way)


def test_opened_split_counts_the_journey_own_messages_unless_any() -> None:
    """An open of another campaign's message is not engagement with this journey; with
    ``messages = "any"`` it is (the reading before), and a step id narrows it to one message."""
    assert _seen_way({}, "storm") == "again"
    assert _seen_way({"messages": "any"}, "storm") == "done"
    assert _seen_way({}, "cart/first") == "done"
    assert _seen_way({}, "cart/again") == "done"  # any message of this journey
    assert _seen_way({"messages": "first"}, "cart/again") == "again"
    assert _seen_way({"messages": "first"}, "cart/first") == "done"


def test_clicked_split_counts_clicks_of_own_messages() -> None:
    split = {"id": "hit", "kind": "split", "on": "clicked", "yes": "done", "no": "again"}
    steps = (msg("first", "w"), wait("w", "hit", hours=2), split,
             {"id": "done", "kind": "exit"}, msg("again"))  # fmt: skip
    engine, messenger = setup(journey(*steps))
    for user in ("u-1", "u-2"):
        granted(engine, f"ph-{user}", 0, user=user)
        engine.ingest(event(f"ph-{user}", 60, "Product Added", user=user))
    run_ticks(engine, 0, 120)
    engine.ingest(event("ph-u-1", 900, "Email Link Clicked", campaign="cart/first", user="u-1"))
    engine.ingest(event("ph-u-2", 900, "Email Opened", campaign="cart/first", user="u-2"))
    run_ticks(engine, 180, hours(3))
    ways = sorted(r["to"] for r in rows(messenger, "advanced") if r["step"] == "hit")
    assert ways == ["again", "done"]


def test_messages_option_is_checked() -> None:
    bad = {"id": "s", "kind": "split", "on": "opened", "messages": "nope", "yes": "m", "no": "m"}
    text = problems(journey(bad, msg("m")))
    assert "journeys[0] (cart).steps (s).messages: expected one of ['journey', 'any']" in text
    wrong = {"id": "s", "kind": "split", "on": "ordered", "messages": "any", "yes": "m", "no": "m"}
    assert "steps[0] (s).messages: expected on an opened or clicked split" in problems(
        journey(wrong, msg("m"))
    )


def test_split_on_last_device_and_trait() -> None:
    by_device = {
        "id": "where",
        "kind": "split",
        "on": "last_device",
        "cases": {"laptop": "mail"},
        "default": "trait",
    }
    trait = {
        "id": "trait",
        "kind": "split",
        "on": "trait",
        "trait": "age",
        "value": {"min": 30},
        "yes": "older",
        "no": "younger",
    }
    steps = (by_device, trait, msg("mail"), msg("older"), msg("younger"))
    engine, messenger = setup(journey(*steps))
    engine.ingest(event("lap", 10, "Product Added", kind="laptop", user="u-1"))
    engine.ingest(
        {**event("ph2", 20, "identify", user="u-2"), "type": "identify", "traits": {"age": 41}}
    )
    engine.ingest(event("ph2", 30, "Product Added", user="u-2"))
    decided = {
        r["profile_id"]: r["to"] for r in rows(messenger, "advanced") if r["step"] != "trait"
    }
    chosen = [r["to"] for r in rows(messenger, "advanced") if r["step"] == "trait"]
    assert sorted(decided.values()) == ["mail", "trait"]
    assert chosen == ["older"]


def test_random_holdout_and_experiment_shares() -> None:
    hold = {"id": "hold", "kind": "split", "on": "random", "percent": 20, "yes": "out", "no": "x"}
    arms = [
        {"name": "a", "share": 50, "next": "m"},
        {"name": "b", "share": 50, "next": "m"},
    ]
    steps = (hold, {"id": "out", "kind": "exit", "reason": "holdout"},
             {"id": "x", "kind": "experiment", "paths": arms}, msg("m"))  # fmt: skip
    engine, messenger = setup(journey(*steps))
    for i in range(400):
        engine.ingest(event(f"d{i}", 10 + i, "Product Added", user=f"u-{i}"))
    held = sum(1 for r in rows(messenger, "exited") if r["label"] == "holdout")
    paths = [r["label"] for r in rows(messenger, "advanced") if r["step"] == "x"]
    assert 50 <= held <= 110  # 20% of 400, binomial
    assert 120 <= paths.count("a") <= 200 and paths.count("a") + paths.count("b") == 400 - held
    engine2, messenger2 = setup(journey(*steps))
    for i in range(400):
        engine2.ingest(event(f"d{i}", 10 + i, "Product Added", user=f"u-{i}"))
    assert rows(messenger2) == rows(messenger)  # a hash, not a die: the same every run


def test_goal_converts_and_exits_opt_out_exits() -> None:
    engine, messenger = setup(journey(wait("w", "m", hours=5), msg("m")))
    engine.ingest(event("ph", 60, "Product Added"))
    engine.ingest(event("ph", 3600, "Order Completed"))
    engine.ingest(event("p2", 60, "Product Added", user="u-2"))
    engine.ingest(event("p2", 900, "Unsubscribed", user="u-2", channel="email"))
    run_ticks(engine, 0, hours(6))
    assert sent(messenger) == []
    assert sorted(r["label"] for r in rows(messenger, "exited")) == ["goal", "opt_out"]
    (converted,) = rows(messenger, "converted")
    assert converted["seconds"] == 3600 - 60


def test_entry_by_segment_moment_and_local_time() -> None:
    segment = journey(
        msg("m"), name="seg", entry={"segment": True}, audience={"min_events": {"Cart Viewed": 2}}
    )
    moment = journey(msg("m"), name="storm", entry={"at": "2026-11-02T05:00:00Z"})
    daily = journey(msg("m"), name="daily", entry={"local_time": "09:30"}, reentry_hours=1)
    engine, messenger = setup(segment, moment, daily)
    run_ticks(engine, 0, hours(0.5))
    engine.ingest(event("ph", hours(0.6), "Cart Viewed"))
    engine.ingest(event("ph", hours(0.7), "Cart Viewed"))
    run_ticks(engine, hours(0.5) + 60, hours(30))
    entered = {(r["journey"], r["at"][:16]) for r in rows(messenger, "entered")}
    assert ("seg", "2026-11-02T01:00") in entered  # the next hourly scan
    assert ("storm", "2026-11-02T05:00") in entered
    assert ("daily", "2026-11-02T14:30") in entered  # 09:30 in New York


def test_reentry_once_or_after_hours() -> None:
    once = journey(msg("m"), name="once")
    again = journey(msg("m"), name="again", reentry_hours=2)
    engine, messenger = setup(once, again)
    for at in (60, hours(1), hours(3)):
        engine.ingest(event("ph", at, "Product Added"))
        run_ticks(engine, at, at + 120)
    entered = [r["journey"] for r in rows(messenger, "entered")]
    assert entered.count("once") == 1 and entered.count("again") == 2


def test_message_steps_pass_the_campaign_guards() -> None:
    """Caps count journey messages with every campaign's: one a day means one."""
    steps = (msg("a", "b", caps={"per_channel": 1, "total": 1}), msg("b", caps={"total": 1}))
    engine, messenger = setup(journey(*steps))
    granted(engine, "ph", 0)
    engine.ingest(event("ph", 60, "Product Added"))
    run_ticks(engine, 0, hours(1))
    reasons = [(d["step"], d["decision"], d["reason"]) for d in messenger.decisions]
    assert reasons == [("a", "sent", ""), ("b", "suppressed", "frequency_cap")]


def test_summary_counts_steps_paths_and_conversions() -> None:
    arms = [{"name": "a", "share": 50, "next": "m"}, {"name": "b", "share": 50, "next": "m"}]
    steps = ({"id": "x", "kind": "experiment", "paths": arms}, msg("m", "nap"),
             wait("nap", "end", hours=1), {"id": "end", "kind": "exit"})  # fmt: skip
    spec = journey(*steps)
    engine, messenger = setup(spec)
    for i in range(20):
        granted(engine, f"d{i}", 0, user=f"u-{i}")
        engine.ingest(event(f"d{i}", 60, "Product Added", user=f"u-{i}"))
    delivered = run_ticks(engine, 0, 600)
    engine.ingest(event("d0", 1200, "Order Completed", user="u-0"))
    delivered += run_ticks(engine, 660, hours(3))
    walker = messenger.walker
    assert walker is not None
    block = summary(
        messenger.journey_rows(),
        messenger.decisions,
        step_kinds(walker.journeys.values()),
        {"cart/m/a": 3},
        {},
        {},
        {"cart/m|watch": 2, "cart/m|laptop": 1, "other/x|phone": 5},
    )["cart"]
    assert block["entered"] == 20 and block["converted"] == 1
    assert block["steps"]["m"]["sent"] == 20
    assert block["steps"]["x"]["advanced"] == {"m": 20}
    assert block["steps"]["m"]["converted_after"] == 1
    assert block["paths"]["a"]["n"] + block["paths"]["b"]["n"] == 20
    assert block["paths"]["a"]["opened"] == 3 and block["steps"]["m"]["opened"] == 3
    assert block["exited"] == {"end": 19, "goal": 1}
    assert {d.variant for d in delivered} == {"a", "b"}  # the loop counts opens per path
    assert block["time_to_conversion"]["under_1h"] == 1
    assert block["steps"]["m"]["devices_opened"] == {"watch": 2, "laptop": 1}


def test_entry_by_api_is_a_posted_event_naming_the_journey() -> None:
    api = journey(msg("m"), name="vip", entry={"api": True})
    engine, messenger = setup(api, journey(msg("m"), name="other", entry={"api": True}))
    engine.ingest(event("ph", 60, "Journey Triggered", journey="vip"))
    engine.ingest(event("ph", 90, "Journey Triggered", journey="nobody"))
    assert [r["journey"] for r in rows(messenger, "entered")] == ["vip"]


def test_a_person_on_two_profiles_walks_the_journey_twice() -> None:
    """Two unstitched devices of one true person: two runs at once, counted once."""
    engine, messenger = setup(journey(wait("w", "m", hours=2), msg("m")))
    engine.ingest(event("ph", 60, "Product Added", user=None))
    engine.ingest(event("lap", 120, "Product Added", kind="laptop", user=None))
    engine.ingest(event("other", 130, "Product Added", user=None))
    run_ticks(engine, 0, hours(3))
    owner = {"ph": "kaylee", "lap": "kaylee", "other": "mason"}

    def person(profile_id: str) -> str | None:
        card = messenger.book.get(profile_id)
        return owner[next(iter(card.devices))] if card is not None else None

    assert walked_twice(messenger.journey_rows(), person) == {"cart": 1}
    later = [
        r for r in messenger.journey_rows() if r["profile_id"] != rows(messenger)[0]["profile_id"]
    ]
    assert walked_twice(later, person) == {"cart": 0}


def test_campaigns_and_journeys_share_their_item_checks() -> None:
    """Not a table, unknown key, exit, reentry_hours, a repeated name: one wording for both."""
    bad = {"exit": "Left Forever", "reentry_hours": -1, "colour": "red"}
    scenario = WHERE
    for table, where, call in (
        (
            "campaigns",
            WHERE,
            lambda: build_messaging(["oops", campaign(**bad), campaign(**bad)], WHERE),
        ),
        (
            "journeys",
            scenario,
            lambda: build_messaging([], WHERE, ["oops", *[journey(msg("m"), **bad)] * 2]),
        ),
    ):
        with pytest.raises(ConfigError) as caught:
            call()
        problems = caught.value.problems
        assert problems[0] == f"{where}: {table}[0]: expected a table, got 'oops'"
        for i in (1, 2):
            item = f"{where}: {table}[{i}] (cart)."
            mine = [p.removeprefix(item) for p in problems if p.startswith(item)]
            assert [p.split(":")[0] for p in mine] == ["colour", "exit", "reentry_hours"]
            assert mine[0].endswith("], got 'colour'")
            assert mine[1:] == [
                "exit: expected a known event name (see docs/messaging.md), got 'Left Forever'",
                "reentry_hours: expected a number >= 0, got -1",
            ]
        assert problems[-1] == f"{where}: {table}: expected unique names, got 'cart' twice"
        assert len(problems) == 8
