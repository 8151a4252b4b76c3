"""Messages per locale with a fallback, filled from traits in jinja2's sandbox; failures suppress."""

from __future__ import annotations

from typing import Any

import pytest

from sim.engine.engine import Engine
from sim.engine.messaging import Delivery, Messenger
from sim.errors import ConfigError
from sim.world.reactions import OTHER_LANGUAGE, MessagingLoop
from tests.engine.test_journeys import MSG, WHERE, journey, msg, problems
from tests.engine.test_messaging import campaign, event, granted, hours, run_ticks, setup
from tests.world.test_reactions import loop_for

LOCALES = {"fr": {"title": "Votre panier vous attend", "body": "Livraison offerte."}}


def local(device: str, at: float, name: str, locale: str, **kw: Any) -> dict[str, Any]:
    out = event(device, at, name, **kw)
    out["context"]["locale"] = locale
    return out


def sent_for(engine: Engine, messenger: Messenger, locale: str) -> list[dict[str, Any]]:
    engine.ingest(local("ph", 0, "Push Permission Changed", locale, granted=True))
    engine.ingest(local("ph", 60, "Product Added", locale))
    run_ticks(engine, 0, hours(2))
    return messenger.decisions


def test_message_in_the_device_language_or_the_default() -> None:
    message = {"title": "Your cart", "body": "Free shipping.", "locales": LOCALES}
    engine, messenger = setup(campaign(message=message))
    (french,) = sent_for(engine, messenger, "fr-FR")
    assert french["content"]["text"].startswith("Votre panier vous attend")
    assert french["content"]["locale"] == "fr"
    engine, messenger = setup(campaign(message=message))
    (polish,) = sent_for(engine, messenger, "pl-PL")
    assert polish["content"]["text"].startswith("Your cart") and polish["content"]["locale"] == "en"


def test_template_filled_from_identify_traits() -> None:
    message = {"title": "Hi {{ first_name }}", "body": "Your code: {{ offer }}", "offer": "X1"}
    engine, messenger = setup(campaign(message=message))
    identify = event("ph", 10, "identify")
    identify |= {"type": "identify", "traits": {"firstName": "Kaylee"}}
    engine.ingest(identify)
    granted(engine, "ph", 20)
    engine.ingest(event("ph", 60, "Product Added"))
    run_ticks(engine, 0, hours(2))
    (row,) = messenger.decisions
    assert row["decision"] == "sent"
    assert row["content"]["text"].startswith("Hi Kaylee: Your code: X1")


def named(raw: dict[str, Any], name: str) -> dict[str, Any]:
    raw["properties"]["name"] = name
    return raw


def test_template_filled_from_the_triggering_event_properties() -> None:
    """A campaign's and a journey's text name what the entry event carried: the product, the
    cart's items; an event without the property suppresses the message, never half-filled."""
    message = {
        "title": "{{ event.name }} is waiting",
        "body": "{{ event.products | map(attribute='name') | join(', ') }} and more",
    }
    engine, messenger = setup(
        campaign(name="items", message=message, trigger={"event": "Cart Viewed"}),
        campaign(message={"title": "{{ event.name }} is waiting", "body": "b"}),
    )
    granted(engine, "ph", 0)
    items = [{"name": "Kettle"}, {"name": "Mug"}]
    engine.ingest(named(event("ph", 60, "Cart Viewed", products=items), "Your cart"))
    engine.ingest(event("ph", 90, "Product Added", product_id="p-1"))  # no name
    run_ticks(engine, 0, hours(2))
    sent = {d["campaign"]: d for d in messenger.decisions}
    assert sent["items"]["content"]["text"].startswith("Your cart is waiting: Kettle, Mug and more")
    assert sent["cart"]["decision"] == "suppressed"
    assert sent["cart"]["reason"].startswith("render_failed:title: 'dict object' has no attribute")


def test_journey_messages_read_the_entry_event_and_broadcasts_have_none() -> None:
    from tests.engine.test_journeys import journey, msg
    from tests.engine.test_journeys import setup as journey_setup

    title = {"title": "{{ event.name }}: free shipping", "body": "b"}
    spec = journey(msg("m", message=title))
    broadcast = journey(msg("m", message=title), name="storm", entry={"at": "2026-11-02T05:00Z"})
    engine, messenger = journey_setup(spec, broadcast)
    granted(engine, "ph", 0)
    engine.ingest(named(event("ph", 60, "Product Added"), "Kettle"))
    run_ticks(engine, 0, hours(6))
    texts = {
        d["journey"]: (d["decision"], d["reason"], d["content"]["text"])
        for d in messenger.decisions
    }
    assert texts["cart"][0] == "sent" and texts["cart"][2].startswith("Kettle: free shipping")
    assert texts["storm"][:2] == ("suppressed", "render_failed:title: 'event' is undefined")


@pytest.mark.parametrize(
    ("title", "why"),
    [
        ("Hi {{ first_name }}", "render_failed:title: 'first_name' is undefined"),
        ("{{ offer.__class__.__mro__ }}", "render_failed:title: access to attribute '__class__'"),
    ],
)
def test_a_message_that_cannot_render_is_suppressed(title: str, why: str) -> None:
    engine, messenger = setup(campaign(message={"title": title, "body": "b", "offer": "X1"}))
    granted(engine, "ph", 0)
    engine.ingest(event("ph", 60, "Product Added"))
    delivered = run_ticks(engine, 0, hours(2))
    (row,) = messenger.decisions
    assert delivered == [] and row["decision"] == "suppressed"
    assert row["reason"].startswith(why)
    assert row["device_id"] == "ph"  # the device it would have gone to


def test_broken_template_fails_at_load_naming_the_key() -> None:
    bad = campaign(message={"title": "Hi {{ first_name", "body": "b", "locales": LOCALES})
    with pytest.raises(
        ConfigError, match=r"x\.toml: campaigns \(cart\)\.message\.title: expected a template"
    ):
        setup_raw([bad])


def test_bad_locales_table_names_the_key() -> None:
    bad = campaign(message={"title": "t", "body": "b", "locales": {"fr": {"colour": "bleu"}}})
    with pytest.raises(ConfigError, match=r"message\.locales\.fr\.colour"):
        setup_raw([bad])


def setup_raw(campaigns: list[dict[str, Any]]) -> None:
    from sim.engine.messaging import build_messaging

    build_messaging(campaigns, "x.toml")


def test_reaction_reads_whether_the_language_was_theirs() -> None:
    loop: MessagingLoop = loop_for()
    device = next(loop.world.people()).devices[0]
    mine = device.locale.replace("_", "-").split("-")[0]
    other = "ko" if mine != "ko" else "fr"

    def with_locale(locale: str | None) -> Delivery:
        content: dict[str, Any] = {"text": "t", "deep_link": None, "offer": ""}
        if locale:
            content["locale"] = locale
        return Delivery("nudge", "default", "p", device.id, device.type, "push", 0.0, "", "offer",
                        content)  # fmt: skip

    assert loop._language(device, with_locale(None)) == 1.0
    assert loop._language(device, with_locale(mine)) == 1.0
    assert loop._language(device, with_locale(other)) == OTHER_LANGUAGE


def test_broken_template_in_a_journey_step_names_journey_and_step() -> None:
    text = problems(journey(msg("m", message=dict(MSG) | {"title": "Hi {{ first_name"})))
    assert f"{WHERE}: journeys (cart) step m.message.title: expected a template" in text
