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
    messenger = build_messaging(list(campaigns), "p.toml: campaigns", [], programme)
    assert messenger is not None
    messenger.bind_start(START)
    return Engine({}, messaging=messenger), messenger


def three(tag: str = "promo", transactional: bool = False) -> list[dict[str, Any]]:
    message = dict(MSG, tag=tag, transactional=transactional)
    return [
        campaign(name=f"c{i}", caps=CAPS, message=message, trigger={"event": "Product Added"})
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


@pytest.mark.parametrize(
    ("programme", "needle"),
    [
        ({"control_percent": 100}, "programme.control_percent"),
        ({"caps": [{"channel": "fax", "per_day": 1}]}, "programme.caps[0].channel"),
        ({"caps": [{"per_day": 0}]}, "programme.caps[0].per_day"),
        ({"colour": "red"}, "programme.colour"),
    ],
)
def test_bad_programme_names_the_key(programme: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        build_messaging([campaign()], "p.toml: campaigns", [], programme)
