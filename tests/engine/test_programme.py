"""Programme policy over every campaign and journey: daily caps, transactional exemption, a
global control group."""

from __future__ import annotations

from typing import Any

import pytest

from sim.engine.engine import Engine
from sim.engine.messaging import Messenger, build_messaging
from sim.engine.messaging.variants import bucket
from sim.errors import ConfigError
from tests.engine.test_messaging import MSG, START, campaign, event, granted, hours, run_ticks

CAPS = {"per_channel": 9, "total": 9}


def setup(programme: dict[str, Any], *campaigns: dict[str, Any]) -> tuple[Engine, Messenger]:
    messenger = build_messaging(list(campaigns), "p.toml", [], programme)
    assert messenger is not None
    messenger.bind_start(START)
    return Engine({}, messaging=messenger), messenger


def three(tag: str = "promo", transactional: bool = False, **over: Any) -> list[dict[str, Any]]:
    message = dict(MSG, tag=tag, transactional=transactional)
    return [
        campaign(
            name=f"c{i}", caps=CAPS, message=message, trigger={"event": "Product Added"}, **over
        )
        for i in range(3)
    ]


def reasons(messenger: Messenger) -> list[str]:
    return [d["reason"] or d["decision"] for d in messenger.decisions]


def drive(engine: Engine, user: str = "u-1") -> None:
    granted(engine, "ph", 0, user=user)
    engine.ingest(event("ph", 60, "Product Added", user=user))
    run_ticks(engine, 0, hours(1))


def test_daily_caps_per_channel_and_tag_across_campaigns() -> None:
    engine, messenger = setup({"caps": [{"channel": "push", "per_day": 2}]}, *three())
    drive(engine)
    assert reasons(messenger) == ["sent", "sent", "programme_cap:push"]
    engine, messenger = setup({"caps": [{"tag": "promo", "per_day": 1}]}, *three())
    drive(engine)
    assert reasons(messenger) == ["sent", "programme_cap:promo", "programme_cap:promo"]


def test_transactional_messages_pass_the_caps_and_the_control_group() -> None:
    engine, messenger = setup({"caps": [{"per_day": 1}]}, *three(transactional=True))
    drive(engine)
    assert reasons(messenger) == ["sent", "sent", "sent"]
    held = next(f"u-{i}" for i in range(200) if bucket("programme", f"u-{i}") < 50)
    engine, messenger = setup({"control_percent": 50}, *three(transactional=True))
    drive(engine, held)
    assert reasons(messenger) == ["sent", "sent", "sent"]


def test_global_control_group_hears_nothing_else() -> None:
    engine, messenger = setup({"control_percent": 20}, *three())
    users = [f"u-{i}" for i in range(60)]
    for i, user in enumerate(users):
        granted(engine, f"d{i}", 0, user=user)
        engine.ingest(event(f"d{i}", 60, "Product Added", user=user))
    run_ticks(engine, 0, hours(1))
    held = {d["profile_id"] for d in messenger.decisions if d["reason"] == "global_control"}
    sent = {d["profile_id"] for d in messenger.decisions if d["decision"] == "sent"}
    assert held and sent and not held & sent
    assert all(bucket("programme", p) < 20 for p in held)
    assert all(bucket("programme", p) >= 20 for p in sent)


def test_rolling_window_cap_counts_the_last_days_not_the_calendar_day() -> None:
    """Three promotions in any seven days: day 1 sends three, day 3 none, day 8 again."""
    promo = {"caps": [{"tag": "promo", "max": 3, "window_days": 7}]}
    engine, messenger = setup(promo, *three(reentry_hours=1))
    granted(engine, "ph", 0)
    for day in (0, 2, 7.5):
        at = hours(24 * day) + 60
        engine.ingest(event("ph", at, "Product Added"))
        run_ticks(engine, at, at + hours(1))
    assert reasons(messenger) == ["sent"] * 3 + ["programme_cap:promo:7d"] * 3 + ["sent"] * 3
    both = {"caps": [{"per_day": 1}, {"max": 2, "window_hours": 36}]}
    awake = {"start": "00:00", "end": "00:00"}
    engine, messenger = setup(both, *three(reentry_hours=1, quiet_hours=awake))
    granted(engine, "ph", 0)
    for day in (0, 1.1, 1.45):  # local days in New York: Nov 1, Nov 2, Nov 3
        at = hours(24 * day) + 60
        engine.ingest(event("ph", at, "Product Added"))
        run_ticks(engine, at, at + hours(1))
    day_cap, rolling = "programme_cap:total", "programme_cap:total:36h"
    assert reasons(messenger) == ["sent", day_cap, day_cap] * 2 + [rolling] * 3


def journey_sends(programme_caps: Any) -> list[str]:
    """Three pushes of one journey under a house cap of one push a day."""
    step = {"kind": "message", "message": dict(MSG), "channels": ["push"], "caps": CAPS}
    steps = [step | {"id": "a", "next": "b"}, step | {"id": "b", "next": "c"}, step | {"id": "c"}]
    spec: dict[str, Any] = {
        "name": "j",
        "entry": {"event": "Product Added"},
        "quiet_hours": {"start": "00:00", "end": "00:00"},
        "steps": steps,
    }
    if programme_caps is not None:
        spec["programme_caps"] = programme_caps
    house = {"caps": [{"channel": "push", "per_day": 1}]}
    messenger = build_messaging([], "p.toml", [spec], house)
    assert messenger is not None
    messenger.bind_start(START)
    drive(Engine({}, messaging=messenger))
    return reasons(messenger)


def test_a_journey_overrides_the_house_caps_or_is_exempt() -> None:
    assert journey_sends(None) == ["sent", "programme_cap:push", "programme_cap:push"]
    assert journey_sends("exempt") == ["sent", "sent", "sent"]
    own = [{"channel": "push", "max": 2, "window_hours": 12}]
    assert journey_sends(own) == ["sent", "sent", "programme_cap:push:12h"]


def test_bad_journey_programme_caps_name_journey_and_key() -> None:
    spec = {"name": "j", "entry": {"event": "Product Added"}, "programme_caps": "never",
            "steps": [{"id": "a", "kind": "message", "message": dict(MSG)}]}  # fmt: skip
    with pytest.raises(
        ConfigError, match=r"p\.toml: journeys\[0\] \(j\)\.programme_caps: expected"
    ):
        build_messaging([], "p.toml", [spec])
    spec["programme_caps"] = [{"tag": "promo", "max": 2}]
    with pytest.raises(
        ConfigError, match=r"journeys\[0\] \(j\)\.programme_caps\[0\]: expected max"
    ):
        build_messaging([], "p.toml", [spec])


@pytest.mark.parametrize(
    ("programme", "needle"),
    [
        ({"control_percent": 100}, "programme.control_percent"),
        ({"caps": [{"channel": "fax", "per_day": 1}]}, "programme.caps[0].channel"),
        ({"caps": [{"per_day": 0}]}, "programme.caps[0].per_day"),
        ({"colour": "red"}, "programme.colour"),
        ({"caps": [{"channel": "push"}]}, "programme.caps[0]: expected exactly one of per_day"),
        ({"caps": [{"per_day": 1, "max": 2}]}, "programme.caps[0]: expected exactly one of"),
        ({"caps": [{"max": 2, "window_days": 0}]}, "programme.caps[0].window_days: expected"),
        (
            {"caps": [{"max": 2, "window_days": 1, "window_hours": 2}]},
            "programme.caps[0]: expected max",
        ),
        ({"caps": "often"}, "programme.caps: expected an array"),
        ({"segments": {"x": {"event": "Nope"}}}, "programme.segments.x.event: expected a known"),
        ({"segments": []}, "programme.segments: expected a table"),
    ],
)
def test_bad_programme_names_the_key(programme: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        build_messaging([campaign()], "p.toml", [], programme)
