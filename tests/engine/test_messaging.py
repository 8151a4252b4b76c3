"""Messaging guards and content on the real engine (identity graph + messenger), no mocks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sim.engine.engine import Engine
from sim.engine.messaging import Messenger, build_messaging
from sim.engine.messaging.clock import MessageClock
from sim.engine.messaging.config import Message
from sim.engine.messaging.content import WATCH_LIMIT, render
from sim.engine.messaging.variants import assign
from sim.errors import ConfigError

START = datetime(2026, 11, 2, tzinfo=UTC)
MSG = {"title": "Your cart is waiting", "body": "Free shipping today.", "offer": "FREESHIP"}


def campaign(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "cart",
        "trigger": {"event": "Product Added", "delay_minutes": 60},
        "exit": ["Order Completed"],
        "channels": ["push"],
        "message": dict(MSG, path="cart"),
    }
    return base | over


def setup(*campaigns: dict[str, Any]) -> tuple[Engine, Messenger]:
    messenger = build_messaging(list(campaigns), "test.toml")
    assert messenger is not None
    messenger.bind_start(START)
    return Engine({}, messaging=messenger), messenger


def event(
    device: str,
    at: float,
    name: str,
    kind: str = "phone",
    tz: str = "America/New_York",
    user: str | None = "u-1",
    app: bool = True,
    **props: Any,
) -> dict[str, Any]:
    clock = MessageClock(START)
    context: dict[str, Any] = {"device": {"id": device, "type": kind}, "timezone": tz}
    if app:
        context["app"] = {"name": "Shopwise"}
    out: dict[str, Any] = {
        "type": "track",
        "messageId": f"{device}-{at}-{name}",
        "timestamp": clock.stamp(at),
        "anonymousId": f"a-{device}",
        "event": name,
        "properties": props,
        "context": context,
    }
    if user:
        out["userId"] = user
    return out


def granted(engine: Engine, device: str, at: float, **kw: Any) -> None:
    engine.ingest(event(device, at, "Push Permission Changed", granted=True, **kw))


def hours(h: float) -> float:
    return h * 3600.0


def run_ticks(engine: Engine, start: float, end: float) -> list[Any]:
    out = []
    t = start
    while t <= end:
        out += engine.tick(t)
        t += 60.0
    return out


def test_bad_config_names_every_key() -> None:
    bad = campaign(
        trigger={"event": "Cart Abandoned"},
        channels=["push", "fax"],
        audience={"traits": {"shoe_size": 9}},
        caps={"total": 0},
        variants=[{"name": "a", "share": 60}, {"name": "b", "share": 30}],
    )
    with pytest.raises(ConfigError) as caught:
        build_messaging([bad], "scenarios/x.toml")
    text = str(caught.value)
    for needle in (
        "scenarios/x.toml",
        "campaigns[0] (cart).trigger.event",
        "'Cart Abandoned'",
        "channels",
        "'fax'",
        "audience.traits.shoe_size",
        "caps.total",
        "sum to 100",
    ):
        assert needle in text


def test_past_moment_fails_at_bind() -> None:
    messenger = build_messaging([campaign(trigger={"at": "2026-10-01T00:00:00Z"})], "x.toml")
    assert messenger is not None
    with pytest.raises(ConfigError) as caught:
        messenger.bind_start(START)
    assert caught.value.problems == [
        "x.toml: campaigns (cart).trigger.at: expected a moment at or after the scenario start"
        " 2026-11-02T00:00:00+00:00, got 2026-10-01T00:00:00+00:00"
    ]


def test_no_campaigns_no_messenger() -> None:
    assert build_messaging([], "x") is None


def test_variant_split_is_deterministic_and_close_to_shares() -> None:
    messenger = build_messaging(
        [
            campaign(
                variants=[
                    {"name": "a", "share": 70},
                    {"name": "control", "share": 30, "control": True},
                ]
            )
        ],
        "x",
    )
    assert messenger is not None
    variants = messenger.campaigns["cart"].variants
    first = [assign("cart", f"p-{i:07d}", variants).name for i in range(4000)]
    again = [assign("cart", f"p-{i:07d}", variants).name for i in range(4000)]
    assert first == again
    assert 0.27 < first.count("control") / 4000 < 0.33


def test_consent_no_push_permission_means_no_push() -> None:
    engine, messenger = setup(campaign())
    engine.ingest(event("d1", hours(14), "Product Added"))
    assert run_ticks(engine, hours(14), hours(16)) == []
    assert [d["reason"] for d in messenger.decisions] == ["no_consent"]


def test_push_sent_after_delay_with_app_deep_link() -> None:
    engine, _ = setup(campaign())
    granted(engine, "d1", hours(13))
    engine.ingest(event("d1", hours(14), "Product Added"))
    sent = run_ticks(engine, hours(14), hours(16))
    assert len(sent) == 1
    assert sent[0].at == hours(15)
    assert sent[0].content["deep_link"] == "shopwise://cart?offer=FREESHIP"


def test_exit_event_cancels() -> None:
    engine, messenger = setup(campaign())
    granted(engine, "d1", hours(13))
    engine.ingest(event("d1", hours(14), "Product Added"))
    engine.ingest(event("d1", hours(14.5), "Order Completed"))
    assert run_ticks(engine, hours(14), hours(16)) == []
    assert messenger.decisions[0]["reason"] == "exit:Order Completed"


@pytest.mark.parametrize(
    ("tz", "utc_hour", "expect_hour_utc"),
    [
        ("America/Los_Angeles", 6.0, 16.0),  # 22:00 PST -> wait to 08:00 PST = 16:00 UTC
        ("Europe/Warsaw", 22.0, 31.0),  # 23:00 CET -> 08:00 CET next day = 07:00 UTC
        ("America/New_York", 15.0, 15.0),  # 10:00 EST: not quiet
    ],
)
def test_quiet_hours_in_local_time(tz: str, utc_hour: float, expect_hour_utc: float) -> None:
    engine, _ = setup(campaign(trigger={"event": "Product Added"}))
    granted(engine, "d1", hours(utc_hour - 1), tz=tz)
    engine.ingest(event("d1", hours(utc_hour), "Product Added", tz=tz))
    sent = run_ticks(engine, hours(utc_hour), hours(utc_hour + 12))
    assert [d.at for d in sent] == [hours(expect_hour_utc)]


def test_quiet_hours_across_dst_change() -> None:
    clock = MessageClock(datetime(2026, 10, 31, tzinfo=UTC))
    # 2026-11-01 02:00 EDT -> 01:00 EST; 08:00 local on Nov 1 is 13:00 UTC (EST)
    at = clock.next_local(hours(24 + 3), "America/New_York", 8 * 60)
    assert clock.stamp(at).startswith("2026-11-01T13:00")


def test_caps_count_on_the_stitched_profile_across_devices() -> None:
    other = campaign(name="browse", trigger={"event": "Product Viewed"}, channels=["push"])
    cart = campaign(trigger={"event": "Product Added"}, caps={"total": 1})
    engine, messenger = setup(other, cart)
    granted(engine, "phone1", hours(13))
    granted(engine, "tablet1", hours(13), kind="tablet")
    assert engine.profile_id_for(event("phone1", 0, "x")) == engine.profile_id_for(
        event("tablet1", 0, "x", kind="tablet")
    )
    engine.ingest(event("phone1", hours(14), "Product Viewed"))
    engine.ingest(event("tablet1", hours(14), "Product Added", kind="tablet"))
    sent = run_ticks(engine, hours(14), hours(15))
    assert len(sent) == 1
    assert "frequency_cap" in [d["reason"] for d in messenger.decisions]


def test_one_push_per_person_to_the_device_seen_now() -> None:
    engine, messenger = setup(campaign(trigger={"event": "Product Added"}))
    granted(engine, "tablet1", hours(10), kind="tablet")
    granted(engine, "phone1", hours(13))
    engine.ingest(event("phone1", hours(14), "Product Added"))
    sent = run_ticks(engine, hours(14), hours(15))
    assert [d.device_id for d in sent] == ["phone1"]
    dedup = [d for d in messenger.decisions if d["reason"] == "dedup"]
    assert [d["device_id"] for d in dedup] == ["tablet1"]


def test_never_visual_while_driving() -> None:
    audio = campaign(trigger={"event": "Product Added"}, channels=["push", "car_audio"])
    engine, _ = setup(audio)
    granted(engine, "phone1", hours(13))
    engine.ingest(event("car1", hours(14), "Trip Started", kind="car"))
    engine.ingest(event("phone1", hours(14.1), "Product Added"))
    sent = run_ticks(engine, hours(14.1), hours(14.2))
    assert [(d.channel, d.device_type, d.content["deep_link"]) for d in sent] == [
        ("car_audio", "car", None)
    ]


def test_driving_defers_visual_only_campaign() -> None:
    engine, messenger = setup(campaign(trigger={"event": "Product Added"}))
    granted(engine, "phone1", hours(13))
    engine.ingest(event("car1", hours(14), "Trip Started", kind="car"))
    engine.ingest(event("phone1", hours(14.1), "Product Added"))
    assert run_ticks(engine, hours(14.1), hours(14.3)) == []
    engine.ingest(event("car1", hours(14.4), "Trip Ended", kind="car"))
    sent = run_ticks(engine, hours(14.3), hours(15))
    assert [d.channel for d in sent] == ["push"]
    assert messenger.deferred["driving"] >= 1


def test_content_per_device_same_offer_everywhere() -> None:
    message = Message(
        "A gift for your clients",
        "Curated desk sets with free gift wrap, delivered in two days.",
        offer="GIFTWRAP",
        path="gifts",
        place="Shopwise SoHo",
        phone="+1 212 555 0142",
    )
    phone = render(message, "phone", True, "push")
    laptop = render(message, "laptop", False, "email")
    tv = render(message, "tv", True, "tv_banner")
    watch = render(message, "watch", True, "watch")
    speaker = render(message, "speaker", True, "speaker_voice")
    assert {c["offer"] for c in (phone, laptop, tv, watch, speaker)} == {"GIFTWRAP"}
    assert phone["deep_link"].startswith("shopwise://gifts")
    assert laptop["deep_link"].startswith("https://shopwise.example/gifts")
    assert {a["type"] for a in phone["actions"]} == {"maps", "call"}
    assert laptop["actions"] == []
    assert len(watch["text"]) <= WATCH_LIMIT
    assert speaker["deep_link"] is None and speaker["format"] == "spoken"
    assert "G I F T W R A P" in speaker["text"]
    assert tv["text"].startswith(message.title) and "GIFTWRAP" in tv["text"]
    assert message.body in laptop["text"]


def test_send_time_optimisation_waits_for_engaged_hour() -> None:
    sto = campaign(
        trigger={"event": "Product Added"},
        variants=[{"name": "sto", "share": 100, "send_time": "optimised"}],
    )
    engine, messenger = setup(sto)
    granted(engine, "phone1", hours(0))
    for day in range(3):  # opens at 19:xx New York (00:xx UTC next day)
        engine.ingest(event("phone1", hours(24 * day + 24.2), "Application Opened"))
    engine.ingest(event("phone1", hours(24 * 3 + 14), "Product Added"))  # 09:00 EST
    sent = run_ticks(engine, hours(86), hours(100))
    assert len(sent) == 1
    assert messenger.clock.local_minute(sent[0].at, "America/New_York") // 60 == 19


def test_a_ticket_entered_after_an_idle_tick_goes_out_at_its_due_minute() -> None:
    engine, _ = setup(campaign(trigger={"event": "Product Added", "delay_minutes": 5}))
    assert engine.tick(hours(14)) == []  # the hour is scanned; nothing is queued
    granted(engine, "d1", hours(14) + 10)
    engine.ingest(event("d1", hours(14) + 90, "Product Added"))
    sent = run_ticks(engine, hours(14) + 60, hours(15))
    assert [d.at for d in sent] == [hours(14) + 7 * 60]  # due 14:06:30, the 14:07 tick


def test_a_daily_campaign_is_scanned_in_every_hour_even_without_tickets() -> None:
    daily = campaign(name="deal", trigger={"local_time": "09:30"}, exit=[])
    engine, _ = setup(daily)
    granted(engine, "d1", hours(1), tz="UTC")
    sent = run_ticks(engine, hours(2), hours(24 + 10))
    assert [d.at for d in sent] == [hours(9.5), hours(24 + 9.5)]


def test_a_profile_keeps_only_sends_the_caps_can_still_count() -> None:
    cart = campaign(
        trigger={"event": "Product Added"},
        reentry_hours=0.25,
        caps={"per_channel": 2, "total": 2, "window_hours": 6},
    )
    engine, messenger = setup(cart)
    granted(engine, "d1", hours(1), tz="UTC")
    for day in range(5):
        for h in (14.0, 14.5, 15.0):  # three tries in an hour: the third breaks the cap
            engine.ingest(event("d1", hours(24 * day + h), "Product Added", tz="UTC"))
            run_ticks(engine, hours(24 * day + h), hours(24 * day + h + 0.2))
    state = messenger.book.get(engine.profile_id_for(event("d1", 0, "x")) or "")
    assert state is not None
    assert [d["reason"] for d in messenger.decisions].count("frequency_cap") == 5
    assert len(state.sends) == 2  # today's two; older days are beyond every window


def test_exposures_are_forgotten_once_converted_or_closed() -> None:
    cart = campaign(
        trigger={"event": "Product Added"},
        reentry_hours=1,
        goal={"event": "Order Completed", "window_hours": 2},
        exit=[],
    )
    engine, messenger = setup(cart)
    granted(engine, "d1", hours(1), tz="UTC")
    for day in range(4):
        engine.ingest(event("d1", hours(24 * day + 14), "Product Added", tz="UTC"))
        run_ticks(engine, hours(24 * day + 14), hours(24 * day + 14.2))
        if day % 2:
            engine.ingest(event("d1", hours(24 * day + 15), "Order Completed", tz="UTC"))
    state = messenger.book.get(engine.profile_id_for(event("d1", 0, "x")) or "")
    assert state is not None
    assert [e.at for e in state.exposures] == [hours(24 * 3 + 14)]
    assert sum(r["conversions"] for r in messenger.experiments()) == 2  # days 1 and 3


def test_daily_entries_of_past_days_are_dropped() -> None:
    engine, messenger = setup(campaign(name="deal", trigger={"local_time": "09:30"}, exit=[]))
    granted(engine, "d1", hours(1), tz="UTC")
    sent = run_ticks(engine, hours(2), hours(24 * 6 + 10))
    assert len(sent) == 7
    assert len(messenger.daily) <= 2


STO = campaign(
    trigger={"event": "Product Added"},
    variants=[{"name": "sto", "share": 100, "send_time": "optimised"}],
)


def household(engine: Engine, user: str, device: str, opens_at_utc: float, days: int) -> None:
    """A household whose phone is opened at one UTC hour every day."""
    granted(engine, device, hours(0.5), user=user)
    for day in range(days):
        for k in range(3):
            at = hours(24 * day + opens_at_utc) + 60.0 * k
            engine.ingest(event(device, at, "Application Opened", user=user))


def test_thin_profiles_fall_back_on_what_the_workspace_knew_yesterday() -> None:
    engine, messenger = setup(STO | {"reentry_hours": 24})
    household(engine, "u-2", "other", opens_at_utc=17.0, days=1)  # 12:00 in New York, day 0
    granted(engine, "mine", hours(1), user="u-1")
    engine.ingest(event("mine", hours(20), "Product Added", user="u-1"))  # 15:00 New York
    sent = run_ticks(engine, hours(20), hours(44))
    engine.ingest(event("mine", hours(44), "Product Added", user="u-1"))  # the next day
    sent += run_ticks(engine, hours(44), hours(72))
    local = [messenger.clock.local_minute(d.at, "America/New_York") // 60 for d in sent]
    # day 0 knows nothing yet (sent at once); day 1 knows day 0's noon
    assert local == [15, 12]


def test_the_workspace_hour_is_when_people_use_the_app_not_when_messages_went_out() -> None:
    """Message opens cluster at a campaign's own send hour; counted for the workspace,
    they made that hour every thin profile's "best" one (a lock-in whose winner
    depended on the first day's sample, so on population size). Session starts only."""
    engine, messenger = setup(STO | {"reentry_hours": 24})
    household(engine, "u-2", "other", opens_at_utc=23.0, days=1)  # 3 opens, 18:00 New York
    for k in range(2):  # two pushes tapped at 09:xx New York, day 0: 6 of engagement weight
        engine.ingest(event("other", hours(14) + 60.0 * k, "Push Notification Tapped", user="u-2"))
    granted(engine, "mine", hours(1), user="u-1")
    engine.ingest(event("mine", hours(44), "Product Added", user="u-1"))  # 15:00 New York, day 1
    sent = run_ticks(engine, hours(44), hours(72))
    assert [messenger.clock.local_minute(d.at, "America/New_York") // 60 for d in sent] == [18]
    assert messenger.book.workspace_hours[9] == 0.0
    assert messenger.book.workspace_hours[18] == 3.0


def test_the_roll_closes_one_day_and_keeps_later_learning_for_its_own_roll() -> None:
    engine, messenger = setup(STO)
    household(engine, "u-2", "other", opens_at_utc=23.0, days=2)
    assert messenger.workspace_learned_since_roll()[18] == 3.0  # day 0 only, local 18:00
    messenger.roll_workspace([0.0] * 18 + [5.0] + [0.0] * 5)
    assert messenger.auto_roll is False
    assert messenger.book.workspace_hours[18] == 5.0
    assert messenger.workspace_learned_since_roll()[18] == 3.0  # day 1 now
    run_ticks(engine, hours(48), hours(72))  # the caller rolls: ticks do not
    assert messenger.rolled_days == 1
    with pytest.raises(ValueError, match="24 hourly weights"):
        messenger.roll_workspace([1.0])


def decisions_of(messenger: Messenger, user: str, engine: Engine) -> list[dict[str, Any]]:
    """The user's decision rows, without the id (numbering ids is the identity graph's job)."""
    profile = engine.profile_id_for(event("x", 0, "x", user=user))
    return [d | {"profile_id": ""} for d in messenger.decisions if d["profile_id"] == profile]


def test_a_households_decisions_do_not_depend_on_who_shares_its_worker() -> None:
    def mine(engine: Engine) -> None:
        household(engine, "u-1", "mine", opens_at_utc=13.0, days=1)  # 08:00 in New York
        for day in range(3):
            engine.ingest(event("mine", hours(24 * day + 15), "Product Added", user="u-1"))

    def other(engine: Engine) -> None:
        household(engine, "u-2", "other", opens_at_utc=23.0, days=3)  # 18:00 in New York

    together, alone, rest = setup(STO), setup(STO), setup(STO)
    for engines, feeders in ((together, (mine, other)), (alone, (mine,)), (rest, (other,))):
        for feed in feeders:
            feed(engines[0])
    for day in range(1, 4):  # the workers roll: every worker adds up everybody's day
        for engine, _ in (alone, rest):
            run_ticks(engine, hours(24 * day - 24), hours(24 * day - 1 / 60))
        total = [
            a + b
            for a, b in zip(
                alone[1].workspace_learned_since_roll(),
                rest[1].workspace_learned_since_roll(),
                strict=True,
            )
        ]
        for _, messenger in (alone, rest):
            messenger.roll_workspace(total)
    run_ticks(together[0], 0.0, hours(72 - 1 / 60))
    assert decisions_of(together[1], "u-1", together[0])  # there is something to compare
    assert decisions_of(together[1], "u-1", together[0]) == decisions_of(alone[1], "u-1", alone[0])


def test_engagement_weights_are_halves_so_any_sum_order_gives_the_same_hours() -> None:
    from sim.trace.vocabulary import ENGAGEMENT

    for _, weight in ENGAGEMENT.values():
        assert (3.0 * weight * 2).is_integer()
