"""Graphs that each saw one shard of the households, absorbed, are the one-graph answer.

``hopsim run --workers N`` gives each worker every N-th household. Each
worker's graph exports its state; the parent absorbs the exports and
finalizes once. The contract: after ``finalize()``, profiles (in order),
``stats()`` and the merge log are exactly those of one graph that saw every
event in trace order, for any number of shards, though shards share
networks (offices, carrier NATs) and number everything by first sight.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

from sim.engine.identity import IdentityConfig, IdentityGraph, graphstate
from sim.engine.identity.sightings import order_key
from sim.world.life import play
from sim.world.scenario import load_scenario
from sim.world.world import World

POPULATION = Path(__file__).resolve().parents[2] / "scenarios" / "population.toml"
Event = dict[str, Any]


def simulate(seed: int, shard: tuple[int, int]) -> list[Event]:
    """One shard's events, in trace order (timestamp, then messageId)."""
    scenario = load_scenario(POPULATION).with_overrides(persons=40, days=3, seed=seed)
    world = World(scenario, shard=shard)
    events: list[Event] = []
    world.event_emitted.add_listener(lambda event, **_: events.append(event))
    play(world)
    return sorted(events, key=order_key)


def fed(events: list[Event], config: IdentityConfig | None = None) -> IdentityGraph:
    graph = IdentityGraph(config)
    graph.observe_all(events)
    return graph


def shipped(graph: IdentityGraph) -> Any:
    """The export as a worker process would send it: through pickle."""
    return pickle.loads(pickle.dumps(graph.export()))


def outputs(graph: IdentityGraph) -> tuple[list[dict[str, Any]], dict[str, Any], list[Any]]:
    graph.finalize()
    return [p.as_json() for p in graph.profiles()], graph.stats(), list(graph.merge_log)


@pytest.mark.parametrize("seed", [2, 5])  # seeds whose three shards share a network
@pytest.mark.parametrize("count", [2, 3])
def test_absorbed_shard_graphs_equal_one_graph_of_all_events(seed: int, count: int) -> None:
    shards = [simulate(seed, (k, count)) for k in range(count)]
    everything = simulate(seed, (0, 1))
    assert sorted(map(order_key, everything)) == sorted(order_key(e) for s in shards for e in s)
    parts = [shipped(fed(events)) for events in shards]
    shared = set(parts[0].book.networks).intersection(*(p.book.networks for p in parts[1:]))
    assert shared, "shards share some networks, as colleagues and carrier NATs do"

    absorbed = IdentityGraph.absorb(parts)
    expected = outputs(fed(everything))
    assert outputs(absorbed) == expected

    profiles, stats, _ = expected
    assert stats["probabilistic_links"] > 0 and stats["households"] > 0
    owner = {d: k for k, events in enumerate(shards) for e in events for d in _devices(e)}
    order = [owner[p["device_ids"][0]] for p in profiles if p["device_ids"]]
    assert order != sorted(order), "global order interleaves the shards: absorb renumbered"


def _devices(event: Event) -> list[str]:
    device = event.get("context", {}).get("device", {}).get("id")
    return [device] if isinstance(device, str) else []


def hand_event(minute: int, anon: object, device: object, ip: str, **extra: Any) -> Event:
    return {
        "type": "track",
        "event": extra.pop("name", "Product Viewed"),
        "messageId": f"{device}-{minute:04d}",
        "timestamp": f"2026-11-02T{10 + minute // 60:02d}:{minute % 60:02d}:00.000Z",
        "anonymousId": anon,
        "context": {"device": {"id": device, "type": "phone"}, "ip": ip},
        **extra,
    }


def junk_shards() -> list[list[Event]]:
    """Two shards sending junk ids and id-less events, interleaved in time, one shared NAT."""
    a = [
        hand_event(1, "null", "a-phone", "10.0.0.1"),
        hand_event(4, "an-a", "a-phone", "100.64.0.1", name="Video Played"),
        {"type": "track", "messageId": "a-x", "timestamp": "2026-11-02T10:05:00.000Z"},
        hand_event(9, "undefined", "a-tab", "100.64.0.1", userId="u-a"),
    ]
    b = [
        hand_event(0, "an-b", "b-phone", "100.64.0.1", name="Route Checked"),
        hand_event(2, "anonymous", "b-phone", "10.0.0.2"),
        {"type": "track", "messageId": "b-x", "timestamp": "2026-11-02T10:03:00.000Z"},
        hand_event(6, "0000", "b-tv", "10.0.0.2", userId="guest"),
    ]
    return [a, b]


def test_rejections_are_logged_as_one_graph_would_log_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(graphstate, "MAX_REJECT_LOG", 3)  # short enough to bite here
    shards = junk_shards()
    parts = [shipped(fed(events)) for events in shards]
    single = fed(sorted((e for s in shards for e in s), key=order_key))
    absorbed = IdentityGraph.absorb(parts)
    assert absorbed.merge_log == single.merge_log
    assert absorbed.stats() == single.stats()
    assert absorbed.state.book.networks == single.state.book.networks
    assert absorbed.state.book.names == single.state.book.names
    assert list(absorbed.state.devices) == list(single.state.devices)
    per_shard = sum(len(p.merge_log) for p in parts)
    assert len(single.merge_log) < per_shard, "the whole log keeps fewer rejections"


def test_export_is_refused_after_finalize_and_mixed_configs_are_refused() -> None:
    graph = fed(junk_shards()[0])
    part = graph.export()
    graph.finalize()
    with pytest.raises(ValueError, match="before finalize"):
        graph.export()
    with pytest.raises(ValueError, match="one identity config"):
        IdentityGraph.absorb([part], IdentityConfig(threshold=9.0))
