"""The engine's per-identifier profile cache never outlives a merge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.engine.engine import Engine
from sim.engine.messaging import build_messaging
from sim.engine.messaging.clock import MessageClock
from sim.engine.messaging.messenger import Messenger
from sim.engine.messaging.profiles import ProfileBook
from sim.world.scenario import load_scenario


def event(kind: str, anon: str, device: str, user: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": kind,
        "messageId": f"{anon}-{kind}-{user}",
        "timestamp": "2026-11-02T10:00:00.000Z",
        "anonymousId": anon,
        "context": {"device": {"id": device, "type": "phone"}, "ip": "73.1.2.3"},
    }
    if kind == "track":
        out["event"] = "Application Opened"
    if user is not None:
        out["userId"] = user
    return out


def test_cached_answer_follows_a_merge() -> None:
    engine = Engine()
    phone = event("track", "anon-phone", "dev-phone")
    laptop = event("track", "anon-laptop", "dev-laptop")
    for e in (phone, laptop):
        engine.ingest(e)
    before_phone = engine._cached_profile_id(phone)
    before_laptop = engine._cached_profile_id(laptop)
    assert before_phone != before_laptop
    assert engine._cached_profile_id(phone) == before_phone == engine.profile_id_for(phone)
    for e in (
        event("identify", "anon-phone", "dev-phone", "u-1"),
        event("identify", "anon-laptop", "dev-laptop", "u-1"),
    ):
        engine.ingest(e)
    after_phone = engine._cached_profile_id(phone)
    after_laptop = engine._cached_profile_id(laptop)
    assert after_phone == after_laptop == engine.profile_id_for(laptop)


class Recorder:
    """A messaging component that hands out one delivery per tick."""

    def __init__(self, keeps_log: bool) -> None:
        if keeps_log:
            self.decisions: list[dict[str, Any]] = []

    def observe(self, event: dict[str, Any], profile_id: str | None) -> None:
        return None

    def tick(self, now_seconds: float) -> list[Any]:
        return [{"profile_id": "p-1", "at": now_seconds}]


def test_deliveries_are_counted_and_kept_only_without_a_decision_log() -> None:
    logging = Engine(messaging=Recorder(keeps_log=True))
    bare = Engine(messaging=Recorder(keeps_log=False))
    for now in (60.0, 120.0, 180.0):
        logging.tick(now)
        bare.tick(now)
    assert logging.stats()["deliveries"] == bare.stats()["deliveries"] == 3
    assert logging.deliveries == []
    assert [d["at"] for d in bare.messages("p-1")] == [60.0, 120.0, 180.0]


def test_cards_ask_for_the_profile_only_when_the_graph_or_ids_change() -> None:
    book = ProfileBook(MessageClock())
    asked: list[str] = []

    def resolve(e: dict[str, Any]) -> str:
        asked.append(e["anonymousId"])
        return "p-" + e["anonymousId"] if "userId" not in e else "p-" + e["userId"]

    phone = event("track", "anon-phone", "dev-phone")
    book.observe_resolving(phone, 0, resolve)
    book.observe_resolving(phone, 0, resolve)
    assert asked == ["anon-phone"]
    book.observe_resolving(phone, 2, resolve)  # the graph merged something
    assert asked == ["anon-phone"] * 2
    signed_in = event("track", "anon-phone", "dev-phone", "u-1")
    book.observe_resolving(signed_in, 2, resolve)  # same device, new ids
    assert asked == ["anon-phone"] * 3
    assert book.get("p-u-1") is not None
    assert book.get("p-u-1") is book.get("p-anon-phone")  # the device's card moved over


def test_engine_with_a_messenger_gives_the_same_cards_as_without_the_shortcut() -> None:
    events = [
        event("track", "anon-phone", "dev-phone"),
        event("track", "anon-laptop", "dev-laptop"),
        event("identify", "anon-phone", "dev-phone", "u-1"),
        event("track", "anon-phone", "dev-phone", "u-1"),
        event("identify", "anon-laptop", "dev-laptop", "u-1"),
        event("track", "anon-laptop", "dev-laptop", "u-1"),
        event("track", "anon-phone", "dev-phone"),
    ]
    fast = Engine(messaging=Messenger([]))
    slow = Engine(messaging=Messenger([]))
    slow._observe_resolving = None  # the plain path: ``observe`` with the engine's cache
    for e in events:
        fast.ingest(e)
        slow.ingest(e)
    assert fast._observe_resolving is not None

    def cards(engine: Engine) -> dict[str, tuple[str, int]]:
        book = engine.messaging.book  # type: ignore[union-attr]
        return {pid: (s.id, len(s.devices)) for pid, s in book.states.items()}

    assert cards(fast) == cards(slow)
    assert len({cards(fast)[p][0] for p in cards(fast)}) == 1  # both devices on one card


def test_a_screen_name_of_any_type_is_taken_without_error() -> None:
    engine = Engine(messaging=Messenger([]))
    for name in ("Home", ["not", "a", "string"], {"a": 1}, None, 7):
        screen = event("track", "anon-tv", "dev-tv") | {"type": "screen", "name": name}
        engine.ingest(screen)
    assert engine.events_ingested == 5
    book = engine.messaging.book  # type: ignore[union-attr]
    assert list(book._labels["screen"]) == ["Home"]


def test_events_of_odd_shapes_reach_messaging_without_error() -> None:
    """The Python API takes events the HTTP validator never saw: odd shapes are skipped or
    read around, never raised on."""
    scenario = load_scenario(Path(__file__).parents[2] / "scenarios" / "population.toml")
    messenger = build_messaging(scenario.campaigns, "population")
    assert messenger is not None
    engine = Engine(messaging=messenger)
    good = event("track", "anon-odd", "dev-odd")
    odd: list[dict[str, Any]] = [
        good | {"context": [1]},
        good | {"context": {"device": "phone"}},
        good | {"context": {"device": {"id": ["x"]}}},
        good | {"context": {"device": {"id": 5}}},
        good | {"context": {"timezone": 5, "location": "x", "device": {"id": "d"}}},
        good | {"timestamp": "yesterday"},
        good | {"timestamp": 5},
        {k: v for k, v in good.items() if k != "timestamp"},
        good | {"event": "Product Added", "properties": ["not", "an", "object"]},
        event("identify", "anon-odd", "dev-odd", "u-odd") | {"traits": "x"},
        good | {"event": "Unsubscribed", "properties": None},
    ]
    for e in odd:
        engine.ingest(e)
    engine.ingest(good)
    engine.tick(3600.0)
    assert engine.events_ingested == len(odd) + 1
    assert messenger.book.states, "the well-formed events still made cards"
