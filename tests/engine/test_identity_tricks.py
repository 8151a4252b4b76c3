"""The identity package's speed tricks against plain readable versions.

The packed ints of :mod:`sim.engine.identity.layout` and every trick over
them (the inlined copies in ``DeviceEvidence.see``, the vectorised
renumbering, the pattern strides in ``Signals.codes``), and the ingest
cache of ``IdentityGraph.observe``: each must give what the spelled-out
version gives on small generated input.
"""

from __future__ import annotations

import random
from array import array
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.engine.identity import IdentityConfig, IdentityGraph
from sim.engine.identity import finalize as finalize_module
from sim.engine.identity import graph as graph_module
from sim.engine.identity.evidence import (
    MAX_NETWORKS,
    SLOT_MINUTES,
    DeviceEvidence,
    EvidenceBook,
    home_time,
)
from sim.engine.identity.layout import (
    AGREES,
    DISAGREES,
    OFF,
    WINDOW_MINUTES,
    WINDOWS_PER_DAY,
    all_events,
    home_events,
    meeting,
    meeting_network,
    meeting_window,
    network_day,
    pattern_code,
    renumber_meetings,
)
from sim.engine.identity.scoring import FLAGS, LEVELS, PATTERNS
from sim.engine.identity.signals import Signals
from sim.world.life import play
from sim.world.scenario import load_scenario
from sim.world.world import World

POPULATION = Path(__file__).resolve().parents[2] / "scenarios" / "population.toml"

START = 29_000_000  # minutes since 1970, a Thursday in 2025


def test_a_meeting_gives_back_its_network_and_window() -> None:
    draw = random.Random(3)
    for _ in range(2000):
        network, window = draw.randrange(1 << 30), draw.randrange(1 << 20)
        pair = meeting(network, window)
        assert (meeting_network(pair), meeting_window(pair)) == (network, window)
        assert network_day(pair) == meeting(network, window // WINDOWS_PER_DAY)
    assert meeting(1, 5) != meeting(5, 1)


def test_renumbered_meetings_are_the_meetings_of_the_new_numbers() -> None:
    draw = random.Random(5)
    remap = np.array(draw.sample(range(1000), 40), dtype=np.int64)
    pairs = [meeting(draw.randrange(40), draw.randrange(1 << 20)) for _ in range(300)]
    moved = renumber_meetings(array("q", pairs), remap)
    plain = [meeting(int(remap[meeting_network(p)]), meeting_window(p)) for p in pairs]
    assert list(moved) == plain
    assert moved.typecode == "q"


def test_a_card_sees_what_plain_counting_sees() -> None:
    """``see`` inlines the slot bit, ``home_time``, ``counted`` and ``meeting``."""
    draw = random.Random(11)
    for offset in (0, -300, 330):
        card = DeviceEvidence("phone", EvidenceBook(public_ip_devices=50))
        card.offset = offset
        homes: Counter[int] = Counter()
        events: Counter[int] = Counter()
        meetings: list[int] = []
        slots: set[int] = set()
        for _ in range(400):  # three days: inside every window and cap a card keeps
            minute = START + draw.randrange(3 * 24 * 60)
            network = draw.randrange(MAX_NETWORKS)  # never more networks than a card keeps
            card.see(network, minute, None)
            events[network] += 1
            homes[network] += home_time(minute + offset)
            pair = meeting(network, minute // WINDOW_MINUTES)
            if pair not in meetings:
                meetings.append(pair)
            slots.add(minute // SLOT_MINUTES)
        assert {n: all_events(p) for n, p in card.ips.items()} == dict(events)
        assert {n: home_events(p) for n, p in card.ips.items()} == dict(homes)
        assert sorted(card.ip_hours) == sorted(meetings)
        assert list(card.slots()) == sorted(slots)
        assert 0 < sum(homes.values()) < sum(events.values()), "both kinds of time occur"


def test_home_time_is_local_evenings_nights_and_weekends() -> None:
    thursday = 20_139 * 24 * 60  # 00:00 on Thursday 2025-02-20 (day 0, 1970-01-01, a Thursday)
    assert home_time(thursday + 23 * 60)  # 23:00
    assert home_time(thursday + 5 * 60)  # 05:00
    assert not home_time(thursday + 11 * 60)  # 11:00 on a weekday
    assert not home_time(thursday + 19 * 60 + 59)  # 19:59
    assert home_time(thursday + 2 * 24 * 60 + 11 * 60)  # Saturday 11:00
    assert home_time(thursday + 3 * 24 * 60 + 11 * 60)  # Sunday 11:00
    assert not home_time(thursday + 4 * 24 * 60 + 11 * 60)  # Monday 11:00


def test_pattern_codes_are_the_places_in_the_pattern_list() -> None:
    assert (FLAGS.index(None), FLAGS.index(True), FLAGS.index(False)) == (OFF, AGREES, DISAGREES)
    for code, (home, level, adjacent, similar) in enumerate(PATTERNS):
        places = (
            FLAGS.index(home),
            LEVELS.index(level),
            FLAGS.index(adjacent),
            FLAGS.index(similar),
        )
        assert pattern_code(*places) == code
    assert len(PATTERNS) == pattern_code(DISAGREES, len(LEVELS) - 1, DISAGREES, DISAGREES) + 1


def test_the_ingest_cache_changes_no_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    """Events whose ids were seen together before skip linking; linking them again is a no-op."""
    scenario = load_scenario(POPULATION).with_overrides(persons=60, days=2, seed=1)
    world = World(scenario)
    events: list[dict[str, Any]] = []
    world.event_emitted.add_listener(lambda event, **_: events.append(event))
    play(world)

    def stitched() -> tuple[list[dict[str, Any]], int, int]:
        graph = IdentityGraph(IdentityConfig())
        graph.observe_all(events)
        graph.finalize()
        stats = graph.stats()
        return [p.as_json() for p in graph.profiles()], stats["events"], stats["merges"]

    cached = stitched()
    monkeypatch.setattr(graph_module, "FAST_CACHE_LIMIT", 0)
    plain = stitched()
    assert cached == plain
    assert len(cached[0]) > 10 and cached[2] > 0, (
        "profiles were made and merged: the check has teeth"
    )


def test_one_signals_for_every_pass_decides_as_one_per_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``Finalizing.signals`` builds the statistics once; a fresh build per pass decides alike."""
    # seed 10: a population in which all three passes link something (turns are rare:
    # one link at this size), so the comparison below has teeth for every pass
    scenario = load_scenario(POPULATION).with_overrides(persons=400, days=7, seed=10)
    world = World(scenario)
    events: list[dict[str, Any]] = []
    world.event_emitted.add_listener(lambda event, **_: events.append(event))
    play(world)

    def finalized() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        graph = IdentityGraph(IdentityConfig())
        graph.observe_all(events)
        graph.finalize()
        return [p.as_json() for p in graph.profiles()], [r.as_json() for r in graph.merge_log]

    built: list[int] = []
    shared = finalize_module.Finalizing.signals

    def counted(work: finalize_module.Finalizing) -> Signals:
        signals = shared(work)
        built.append(id(signals))
        return signals

    monkeypatch.setattr(finalize_module.Finalizing, "signals", counted)
    once = finalized()
    assert len(built) >= 3 and len(set(built)) == 1, "three passes asked, one Signals built"
    monkeypatch.setattr(
        finalize_module.Finalizing, "signals", lambda w: finalize_module.population_signals(w.graph)
    )
    per_pass = finalized()
    assert once == per_pass
    rules = {rule for p in once[0] for rule in p["links"].values()}
    assert {"probabilistic", "companion", "turns"} <= rules, "every pass that reads them linked"
