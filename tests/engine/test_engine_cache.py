"""The engine's per-device profile answer equals asking the graph, merges or not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.device_cache import DeviceAnswers
from sim.engine.engine import Engine
from sim.engine.identity import IdentityGraph
from sim.engine.messaging import build_messaging
from sim.engine.messaging.messenger import Messenger
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


# a few devices, anonymous ids and users, so that sign-ins merge profiles often
steps = st.lists(
    st.tuples(
        st.sampled_from(["track", "identify", "screen"]),
        st.integers(0, 3),  # device
        st.integers(0, 5),  # anonymousId
        st.one_of(st.none(), st.integers(0, 2)),  # userId
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(steps)
def test_pinned_answers_equal_the_graphs_answer_after_every_event(
    sequence: list[tuple[str, int, int, int | None]],
) -> None:
    graph = IdentityGraph()
    engine = Engine(identity=graph)
    answers = DeviceAnswers()
    for kind, device, anon, user in sequence:
        e = event(kind, f"a{anon}", f"d{device}", None if user is None else f"u{user}")
        engine.ingest(e)
        pinned = answers.profile_id(e, graph.epoch, engine.profile_id_for)
        assert pinned == engine.profile_id_for(e)
    graph.finalize()  # may move shared devices to households: every pin is asked again
    for kind, device, anon, user in sequence:
        e = event(kind, f"a{anon}", f"d{device}", None if user is None else f"u{user}")
        assert answers.profile_id(e, graph.epoch, engine.profile_id_for) == engine.profile_id_for(e)


def test_the_graph_is_asked_again_only_when_the_epoch_or_the_ids_change() -> None:
    answers = DeviceAnswers()
    asked: list[str] = []

    def resolve(e: dict[str, Any]) -> str:
        asked.append(e["anonymousId"])
        return "p-" + e.get("userId", e["anonymousId"])

    phone = event("track", "anon-phone", "dev-phone")
    assert answers.profile_id(phone, 0, resolve) == "p-anon-phone"
    assert answers.profile_id(phone, 0, resolve) == "p-anon-phone"
    assert asked == ["anon-phone"]
    answers.profile_id(phone, 2, resolve)  # the graph merged something
    assert asked == ["anon-phone"] * 2
    signed_in = event("track", "anon-phone", "dev-phone", "u-1")
    assert answers.profile_id(signed_in, 2, resolve) == "p-u-1"  # same device, new ids
    assert asked == ["anon-phone"] * 3
    no_device = event("track", "anon-phone", "dev-phone") | {"context": {}}
    answers.profile_id(no_device, 2, resolve)
    answers.profile_id(no_device, 2, resolve)
    assert asked == ["anon-phone"] * 5  # nothing to pin an answer to


def test_a_merge_moves_both_devices_onto_one_messaging_card() -> None:
    engine = Engine(messaging=(messenger := Messenger([])))
    for e in (
        event("track", "anon-phone", "dev-phone"),
        event("track", "anon-laptop", "dev-laptop"),
        event("identify", "anon-phone", "dev-phone", "u-1"),
        event("track", "anon-phone", "dev-phone", "u-1"),
        event("identify", "anon-laptop", "dev-laptop", "u-1"),
        event("track", "anon-laptop", "dev-laptop", "u-1"),
        event("track", "anon-phone", "dev-phone"),
    ):
        engine.ingest(e)
    profile = engine.profile_id_of("userId", "u-1")
    assert profile is not None
    card = messenger.book.get(profile)
    assert card is not None
    assert set(card.devices) == {"dev-phone", "dev-laptop"}
    assert len(messenger.book.states) == 1


def test_messages_are_the_decisions_logged_for_one_profile() -> None:
    scenario = load_scenario(Path(__file__).parents[2] / "scenarios" / "abandoned-cart.toml")
    messenger = build_messaging(scenario.campaigns, "abandoned-cart")
    assert messenger is not None
    messenger.bind_start(scenario.start)
    engine = Engine(messaging=messenger)
    assert engine.messages("nobody") == []
    messenger.decisions.append({"profile_id": "p-1", "campaign": "c"})
    messenger.decisions.append({"profile_id": "p-2", "campaign": "c"})
    assert engine.messages("p-1") == [{"profile_id": "p-1", "campaign": "c"}]
    assert Engine().messages("p-1") == []


def test_a_screen_name_of_any_type_is_taken_without_error() -> None:
    engine = Engine(messaging=(messenger := Messenger([])))
    for name in ("Home", ["not", "a", "string"], {"a": 1}, None, 7):
        screen = event("track", "anon-tv", "dev-tv") | {"type": "screen", "name": name}
        engine.ingest(screen)
    assert [p.device_ids for p in engine.profiles()] == [("dev-tv",)]
    assert len(messenger.book.states) == 1


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
    assert messenger.book.states, "the well-formed events still made cards"
