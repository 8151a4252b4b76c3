"""The closed loop on a real world and engine: context-dependent reactions, opt-outs, outputs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sim.engine.engine import Engine
from sim.engine.messaging import Delivery, build_messaging
from sim.errors import ConfigError
from sim.runner import Run
from sim.world import reactions
from sim.world.catalog import Product
from sim.world.census import DATA
from sim.world.places import CONTEXTS
from sim.world.reaction_data import parse_reactions
from sim.world.reactions import MessagingLoop, attach
from sim.world.scenario import load_scenario
from sim.world.schema import load_toml
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
CAMPAIGN = {
    "name": "nudge",
    "trigger": {"event": "Product Added"},
    "channels": ["push"],
    "message": {"title": "Hello", "body": "A nudge.", "offer": "X1", "topic": "offer"},
}


def loop_for(scenario: str = "kitchen-speaker.toml") -> MessagingLoop:
    scenario_obj = load_scenario(SCENARIOS / scenario)
    world = World(scenario_obj)
    messaging = build_messaging([CAMPAIGN], "test")
    engine = Engine(dict(scenario_obj.identity), messaging=messaging)
    world.event_emitted.add_listener(lambda event, **_: engine.ingest(event))
    return attach(world, engine, messaging)


def delivery(device_id: str, device_type: str, channel: str, topic: str = "offer") -> Delivery:
    content = {"text": "Hello", "deep_link": "shopwise://home", "offer": "X1"}
    return Delivery(
        "nudge", "default", "p-1", device_id, device_type, channel, 0.0, "", topic, content
    )


@pytest.mark.parametrize(
    ("context", "channel", "device", "expected"),
    [
        ("class", "push", "phone", "buzz_in_class"),
        ("car.driving", "push", "phone", "visual_while_driving"),
        ("car.driving", "car_audio", "car", ""),
        ("class", "speaker_voice", "speaker", "audio_in_class"),
        ("home.kitchen", "speaker_voice", "speaker", ""),
        ("gym", "watch", "watch", ""),
        ("home.sleep", "push", "phone", "buzz_while_asleep"),
    ],
)
def test_bad_context(context: str, channel: str, device: str, expected: str) -> None:
    loop = loop_for()
    person = next(loop.world.people())
    target = person.devices_of(device)[0] if person.devices_of(device) else person.devices[0]
    assert loop.bad_context(CONTEXTS[context], channel, target) == expected


def test_context_changes_the_odds() -> None:
    loop = loop_for()
    mason = next(loop.world.people())
    speaker = mason.devices_of("speaker")[0]
    phone = mason.devices_of("phone")[0]
    mood = loop.moods[mason.id]
    voice = delivery(speaker.id, "speaker", "speaker_voice", "recipe")
    push = delivery(phone.id, "phone", "push")
    odds = {}
    for context in ("home.kitchen", "home.living_room", "work.cafe", "car.driving"):
        mason.context = context
        odds[context] = (
            loop.open_chance(mason, speaker, CONTEXTS[context], voice, mood),
            loop.open_chance(mason, phone, CONTEXTS[context], push, mood),
        )
    assert odds["home.kitchen"][0] > odds["home.living_room"][0] > 0  # Mason listens in the kitchen
    assert odds["car.driving"][0] == 0.0 and odds["car.driving"][1] == 0.0
    assert odds["work.cafe"][1] < odds["home.living_room"][1]  # a buzz at the cafe annoys


def test_annoyance_leads_to_opt_outs() -> None:
    loop = loop_for()
    mason = next(loop.world.people())
    phone = mason.devices_of("phone")[0]
    mason.context = "work.cafe"  # every buzz here annoys
    env = loop.world.env
    for i in range(30):
        env.process(loop.deliver(delivery(phone.id, "phone", "push")))
        env.run(until=(i + 1) * 600.0)
    assert loop.tally.bad_context["buzz_in_work.cafe"] == 30
    assert loop.tally.opt_outs >= 1
    assert loop.moods[mason.id].annoyance > 1.0
    assert mason.opt_in["push"] is False


def test_an_email_reaching_a_sleeper_waits_in_the_inbox_until_they_are_up() -> None:
    loop = loop_for()
    mason = next(loop.world.people())
    env = loop.world.env
    woke: list[float] = []

    def read() -> Any:
        yield from loop.until_awake(mason)
        woke.append(env.now)

    def wake_at(seconds: float) -> Any:
        yield env.timeout(seconds)
        mason.context = "home.kitchen"

    mason.context = "home.sleep"
    env.process(read())
    env.process(wake_at(3 * 3600.0))
    env.run(until=86_400.0)
    assert woke and 3 * 3600.0 <= woke[0] <= 3 * 3600.0 + reactions.INBOX_LOOK
    mason.context = "home.living_room"  # awake: read at once
    env.process(read())
    env.run(until=2 * 86_400.0)
    assert woke[1] == 86_400.0


def test_a_waiting_cart_lifts_the_open_of_its_reminder_more_than_the_click() -> None:
    loop = loop_for()
    mason = next(loop.world.people())
    phone = mason.devices_of("phone")[0]
    mason.context = "home.living_room"
    mood = loop.moods[mason.id]
    reminder = delivery(phone.id, "phone", "email", "cart")
    assert loop.topic_of(mason, "cart") == "cart_gone"
    gone = loop.open_chance(mason, phone, CONTEXTS[mason.context], reminder, mood)
    mason.journey.cart = [Product("p1", "Mug", "kitchen", 12.0)]
    assert loop.topic_of(mason, "cart") == "cart_waiting"
    waiting = loop.open_chance(mason, phone, CONTEXTS[mason.context], reminder, mood)
    odds = reactions.ODDS
    lift = odds.relevance["cart_waiting"] / odds.relevance["cart_gone"]
    assert waiting == pytest.approx(gone * lift)
    assert odds.relevance["cart_waiting"] > odds.click_relevance["cart_waiting"] > 1.0
    data = load_toml(DATA / "reactions.toml")
    data["click_relevance"]["cart_waitng"] = 2.0
    with pytest.raises(ConfigError, match=r"r\.toml: click_relevance\.cart_waitng"):
        parse_reactions(data, "r.toml")


def test_reactions_emit_segment_events() -> None:
    loop = loop_for()
    seen: list[dict[str, Any]] = []
    loop.world.event_emitted.add_listener(lambda event, **_: seen.append(event))
    mason = next(loop.world.people())
    phone = mason.devices_of("phone")[0]
    mason.context = "home.living_room"
    env = loop.world.env
    for i in range(40):
        env.process(loop.deliver(delivery(phone.id, "phone", "push")))
        env.run(until=(i + 1) * 3 * 86_400.0)  # days apart: annoyance decays
    names = {e.get("event") for e in seen}
    assert "Push Notification Received" in names
    assert "Push Notification Tapped" in names
    assert loop.tally.opened == sum(1 for e in seen if e.get("event") == "Push Notification Tapped")


def test_end_to_end_run_writes_messages_and_summary(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / "kitchen-speaker.toml").with_overrides(days=2)
    summary = Run(scenario, tmp_path).execute()
    block = summary["messaging"]
    for key in (
        "sent",
        "suppressed",
        "delivered",
        "opened",
        "clicked",
        "conversions",
        "opt_outs",
        "quiet_hours_violations",
        "cap_violations_per_person",
        "bad_context_deliveries",
        "experiments",
    ):
        assert key in block
    assert block["sent"] > 0
    assert block["quiet_hours_violations"] == 0
    rows = [json.loads(line) for line in (tmp_path / "messages.jsonl").read_text().splitlines()]
    assert len(rows) == block["sent"] + sum(block["suppressed"].values())
    first = rows[0]
    assert set(first) >= {
        "campaign",
        "variant",
        "profile_id",
        "device_id",
        "device_type",
        "channel",
        "at",
        "decision",
        "reason",
        "content",
    }
    assert first["at"].endswith("Z")
    assert {r["channel"] for r in rows if r["decision"] == "sent"} == {"speaker_voice"}


def cart_click(offer: str, topic: str = "cart") -> Delivery:
    content = {"text": "Your cart", "deep_link": "shopwise://cart", "offer": offer}
    return Delivery("cart", "default", "p-1", "d", "phone", "push", 0.0, "", topic, content)


@pytest.mark.parametrize(
    ("offer", "topic", "recovered"),
    [("FREESHIP", "cart", True), ("TODAY15", "cart", False), ("FREESHIP", "offer", False)],
)
def test_a_clicked_free_shipping_offer_can_save_a_cart_its_owner_would_abandon(
    monkeypatch: pytest.MonkeyPatch, offer: str, topic: str, recovered: bool
) -> None:
    """Without a cart it rescues, a cart campaign could only hurry orders coming anyway."""
    monkeypatch.setattr(reactions, "ODDS", replace(reactions.ODDS, free_shipping_recovers=1.0))
    loop = loop_for("population.toml")
    person = next(loop.world.people())
    product = Product("sku-1", "Kettle", "home", 30.0)
    person.journey.add(product, will_buy=False, now=0.0)
    loop._recover(person, cart_click(offer, topic))
    assert person.journey.intent is recovered
    assert loop.tally.recovered == int(recovered)


def test_no_cart_is_saved_when_the_offer_never_recovers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reactions, "ODDS", replace(reactions.ODDS, free_shipping_recovers=0.0))
    loop = loop_for("population.toml")
    person = next(loop.world.people())
    person.journey.add(Product("sku-1", "Kettle", "home", 30.0), will_buy=False, now=0.0)
    loop._recover(person, cart_click("FREESHIP"))
    assert person.journey.intent is False
