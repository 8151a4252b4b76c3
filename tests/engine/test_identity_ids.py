"""Public profile ids depend on a household's own events, not on who else was seen.

``hopsim run --workers N`` gives each worker only its households' events, and
the messaging loop hashes profile ids into A/B variants. So a graph fed one
household's events must name that household's people exactly as a graph fed
everybody's events does (before ``finalize``, which is global).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sim.engine.identity import IdentityConfig, IdentityGraph
from sim.world.life import play
from sim.world.scenario import load_scenario
from sim.world.world import World

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PERSON_ID = re.compile(r"p-[0-9a-f]{16}")
HOUSEHOLD_ID = re.compile(r"h-[0-9a-f]{16}")
KINDS = ("userId", "anonymousId", "deviceId")


def event(minute: int, device: str, anon: str, user: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "track",
        "event": "Product Viewed",
        "timestamp": f"2026-11-02T{10 + minute // 60:02d}:{minute % 60:02d}:00.000Z",
        "anonymousId": anon,
        "context": {"device": {"id": device, "type": "phone"}, "ip": "73.1.2.3"},
    }
    if user is not None:
        out["userId"] = user
    return out


def household_a() -> list[dict[str, Any]]:
    """Two people: Ann's phone and laptop meet through her login (a merge), her
    laptop loses its cookie (a second install id), Bo's tablet never logs in."""
    return [
        event(1, "a-phone", "an-1"),
        event(5, "a-laptop", "an-2"),
        event(9, "a-tablet", "an-3"),
        event(12, "a-laptop", "an-2", "u-ann"),
        event(20, "a-phone", "an-1", "u-ann"),
        event(31, "a-laptop", "an-4"),
    ]


def household_b() -> list[dict[str, Any]]:
    """Active earlier and in between, so a global creation counter would shift A's ids."""
    return [
        event(0, "b-phone", "bn-1", "u-bea"),
        event(3, "b-laptop", "bn-2"),
        event(8, "b-laptop", "bn-2", "u-bea"),
        event(15, "b-tv", "bn-3"),
        event(25, "b-phone", "bn-5"),
    ]


def graph_of(events: list[dict[str, Any]]) -> IdentityGraph:
    graph = IdentityGraph(IdentityConfig())
    graph.observe_all(sorted(events, key=lambda e: e["timestamp"]))
    return graph


def ids_of(graph: IdentityGraph, events: list[dict[str, Any]]) -> dict[tuple[str, str], str | None]:
    """The public id every identifier in ``events`` maps to (None: dropped by a merge limit)."""
    out: dict[tuple[str, str], str | None] = {}
    for item in events:
        for kind, value in (
            ("userId", item.get("userId")),
            ("anonymousId", item.get("anonymousId")),
            ("deviceId", item["context"]["device"]["id"]),
        ):
            if isinstance(value, str):
                out[(kind, value)] = graph.profile_of(kind, value)
    return out


def test_a_household_alone_and_among_others_gets_the_same_ids() -> None:
    alone = ids_of(graph_of(household_a()), household_a())
    mixed = ids_of(graph_of(household_a() + household_b()), household_a())
    assert alone == mixed
    assert len(set(alone.values())) == 2, "Ann (phone, laptop) and Bo's tablet"
    assert all(PERSON_ID.fullmatch(str(found)) for found in alone.values())


def test_the_id_survives_a_merge_and_names_the_larger_profile() -> None:
    graph = graph_of(household_a())
    ann = graph.profile_of("userId", "u-ann")
    assert (
        ann == graph.profile_of("deviceId", "a-phone") == graph.profile_of("deviceId", "a-laptop")
    )
    merges = [r for r in graph.merge_log if r.action == "merge"]
    assert merges and all(r.ids[0] == f"profile:{ann}" for r in merges)


def test_ids_of_different_profiles_differ_and_repeat_run_to_run() -> None:
    events = household_a() + household_b()
    first, second = graph_of(events), graph_of(events)
    ids = [p.profile_id for p in first.profiles()]
    assert ids == [p.profile_id for p in second.profiles()]
    assert len(set(ids)) == len(ids) == 4


def simulated() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A tiny simulated population's events, and each device's household."""
    scenario = load_scenario(FIXTURES / "scenarios" / "tiny.toml").with_overrides(days=3)
    world = World(scenario)
    events: list[dict[str, Any]] = []
    world.event_emitted.add_listener(lambda event, **_: events.append(event))
    play(world)
    homes = {d.id: d.household_id for d, _ in world.devices()}
    return events, homes


def test_every_simulated_household_alone_matches_the_whole_population() -> None:
    events, homes = simulated()
    full = graph_of(events)
    households = sorted(set(homes.values()))
    assert len(households) > 3
    for household in households:
        own = [e for e in events if homes[e["context"]["device"]["id"]] == household]
        if not own:
            continue  # the brand never saw this household today: nothing to match
        expected = ids_of(full, own)
        assert sum(found is not None for found in expected.values()) > len(expected) // 2
        assert ids_of(graph_of(own), own) == expected, household


def family(name: str, home: str) -> list[dict[str, Any]]:
    """Two partners who log in on their phones and a TV, every evening on one home network."""
    events = []
    for day in range(5):
        for minute in range(0, 120, 10):
            stamp = f"2026-11-{2 + day:02d}T{19 + minute // 60:02d}:{minute % 60:02d}:00.000Z"
            for device, user in ((f"{name}-phone1", f"u-{name}1"), (f"{name}-phone2", None)):
                events.append(event(0, device, f"an-{device}", user) | {"timestamp": stamp})
            tv = event(0, f"{name}-tv", f"an-{name}-tv") | {"timestamp": stamp}
            tv["context"] = {"device": {"id": f"{name}-tv", "type": "tv"}, "ip": home}
            events.append(tv)
        events.append(event(0, f"{name}-phone2", f"an-{name}-phone2", f"u-{name}2"))
    for item in events:
        item["context"]["ip"] = home
    return events


def test_households_made_at_finalize_are_named_by_their_own_family() -> None:
    a, b = family("a", "73.1.0.1"), family("b", "73.2.0.1")
    alone, mixed = graph_of(a), graph_of(b + a)
    alone.finalize()
    mixed.finalize()
    [household] = [p for p in alone.profiles() if p.kind == "household"]
    assert HOUSEHOLD_ID.fullmatch(household.profile_id)
    assert household.device_ids == ("a-tv",) and len(household.members) == 2
    assert household in mixed.profiles()
    assert ids_of(alone, a) == ids_of(mixed, a)
