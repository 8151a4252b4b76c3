"""The fast pair features say exactly what their plain definitions say.

``finalize()`` scores tens of thousands of (device, person) pairs, so the
signals are computed in ready-made form (slot bitmasks, name-count vectors,
a disjointness shortcut, a table of scores). On a simulated population every
pair must get the very answer of the textbook formulas, down to the float.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sim.engine.identity import IdentityConfig, IdentityGraph
from sim.engine.identity import signals as signals_module
from sim.engine.identity.evidence import DeviceEvidence
from sim.engine.identity.scoring import (
    ADJACENT_LIFT,
    PATTERNS,
    SIMILAR_COSINE,
    Comparison,
    code_of,
    copresence_level,
    cosine,
    score_of,
)
from sim.engine.identity.signals import Blocks, Signals, Summary
from sim.world.life import play
from sim.world.scenario import load_scenario
from sim.world.world import World

POPULATION = Path(__file__).resolve().parents[2] / "scenarios" / "population.toml"


def summaries() -> tuple[Signals, list[Summary]]:
    scenario = load_scenario(POPULATION).with_overrides(persons=30, days=3)
    world = World(replace(scenario, brand="panel"))  # every pick-up logged: rich evidence
    graph = IdentityGraph(IdentityConfig())
    world.event_emitted.add_listener(lambda event, **_: graph.observe(event))
    play(world)
    signals = Signals(graph.devices, graph.book.public())
    persons = [s for s in graph.registry.live() if s.kind == "person" and s.device_ids]
    return signals, [signals.summarise(s) for s in persons]


def adjacent_by_definition(signals: Signals, mine: Summary, other: Summary) -> bool:
    if not mine.slots or not other.slots:
        return False
    near = sum(1 for s in mine.slots if {s - 1, s, s + 1} & other.slots)
    chance = min(1.0, 3 * len(other.slots) / signals.span)
    share = near / len(mine.slots)
    return share >= ADJACENT_LIFT * chance and share > 0.0


def test_batched_pair_features_match_their_definitions() -> None:
    signals, people = summaries()
    assert len(people) > 10
    adjacent_seen, met_seen, similar_seen = set(), set(), set()
    for mine in people:
        others = [p for p in people if p is not mine]
        adjacent = signals.adjacency(mine, others)
        similar = signals.similar(mine, others)
        levels = signals.meetings(mine, others)
        for other, near, alike, level in zip(others, adjacent, similar, levels, strict=True):
            assert mine.active == len(mine.slots)
            assert near == adjacent_by_definition(signals, mine, other)
            assert alike == (cosine(mine.behaviour, other.behaviour) >= SIMILAR_COSINE)
            assert level == copresence_level(*signals.copresence(mine, other))
            adjacent_seen.add(near)
            met_seen.add(level)
            similar_seen.add(alike)
    assert adjacent_seen == similar_seen == {True, False}, "both answers occur: the check has teeth"
    assert len(met_seen) > 1


def test_the_pattern_numbers_are_the_four_fields_zipped() -> None:
    signals, people = summaries()
    blocks = Blocks({p.state.number: p for p in people[::2]})
    patterns_seen = set()
    for mine in people:
        rows = np.array([r for r, p in enumerate(blocks.members) if p is not mine], dtype=np.intp)
        others = [blocks.members[r] for r in rows]
        dots = blocks.dots(mine, rows)
        assert dots.tolist() == [int(o.vector @ mine.vector) for o in others]
        fields = list(
            zip(
                signals.same_home(mine, others),
                signals.meetings(mine, others),
                signals.adjacency(mine, others),
                signals.similar(mine, others),
                strict=True,
            )
        )
        codes = signals.codes(mine, blocks, rows).tolist()
        assert [PATTERNS[code] for code in codes] == fields
        assert [code_of(f) for f in fields] == codes
        patterns_seen.update(fields)
        assert signals.codes(mine, blocks, rows[:0]).tolist() == []
        assert signals.codes(mine, blocks, rows[::-1]).tolist() == codes[::-1]  # any order
    assert len(patterns_seen) > 8, "many patterns occur: the check has teeth"
    assert not blocks._scratch.any(), "membership marks are wiped after each use"


def test_dots_past_float_exactness_are_integer_products(monkeypatch: pytest.MonkeyPatch) -> None:
    _, people = summaries()
    blocks = Blocks({p.state.number: p for p in people})
    rows = np.arange(len(people), dtype=np.intp)
    exact = blocks.dots(people[0], rows)
    monkeypatch.setattr(signals_module, "EXACT_FLOAT", 0.0)
    assert blocks.dots(people[0], rows).tolist() == exact.tolist()
    assert exact.tolist() == [float(p.vector @ people[0].vector) for p in people]


def most_voted_by_definition(
    pool: dict[int, Summary], mine: Summary, use_time: bool, cap: int
) -> list[int]:
    """The blocking rule spelled out: one vote per shared uncrowded key, ties to the first voted."""
    limit = signals_module.MAX_BLOCK
    home: Counter[int] = Counter(h for p in pool.values() for h in p.homes)
    met: Counter[int] = Counter(k for p in pool.values() for k in p.ip_hours)
    slot: Counter[int] = Counter(k for p in pool.values() for k in p.slots)
    voted: list[int] = []
    if mine.home is not None and home[mine.home] <= limit:
        voted += [n for n, p in pool.items() if mine.home in p.homes]
    for pair in mine.ip_hours:
        if met[pair] <= limit:
            voted += [n for n, p in pool.items() if pair in p.ip_hours]
    for key in mine.slots if use_time else ():
        if slot[key] <= limit:
            voted += [n for n, p in pool.items() if key in p.slots]
    votes = Counter(voted)
    votes.pop(mine.state.number, None)
    return [number for number, _ in votes.most_common(cap)]


@pytest.mark.parametrize(("cap", "crowd"), [(64, 256), (5, 256), (2, 4), (1, 1)])
def test_blocking_candidates_are_the_most_voted(
    monkeypatch: pytest.MonkeyPatch, cap: int, crowd: int
) -> None:
    monkeypatch.setattr(signals_module, "MAX_CANDIDATES", cap)
    monkeypatch.setattr(signals_module, "MAX_BLOCK", crowd)
    _, people = summaries()
    pool = {p.state.number: p for p in people[::2]}
    blocks = Blocks(pool)
    for mine in people:
        for use_time in (True, False):
            expected = most_voted_by_definition(pool, mine, use_time, cap)
            assert blocks.candidates(mine, use_time) == expected
            nearby = blocks.nearby(mine, use_time)
            assert [s.state.number for s in nearby] == expected
            assert all(s is pool[s.state.number] for s in nearby)


def test_a_summary_is_reused_only_while_its_devices_stay_the_same() -> None:
    signals, people = summaries()
    first = people[0]
    assert signals.summarise(first.state) is first
    moved = first.state.device_ids.pop()
    try:
        assert signals.summarise(first.state) is not first
    finally:
        first.state.device_ids.append(moved)


def test_the_score_table_is_the_sum_of_the_field_weights() -> None:
    for home, level, adjacent, similar in itertools.product(
        (None, True, False),
        (None, "strong", "some", "repeated", "once", "none"),
        (None, True, False),
        (None, True, False),
    ):
        fields = (home, level, adjacent, similar)
        expected = math.fsum(Comparison(*fields).weights().values())
        assert math.isclose(score_of(fields), expected, abs_tol=1e-12)
        assert score_of(fields) == Comparison(*fields).score()


def test_slot_lists_are_each_cards_slots_in_order() -> None:
    signals, _ = summaries()
    cards = list(signals.devices.items())
    empty = DeviceEvidence("phone", cards[0][1].book)  # no slot: shares its start with the next
    devices = dict([*cards[:5], ("empty", empty), *cards[5:], ("empty at the end", empty)])
    for since in (0, signals.since_slot, signals.since_slot + 500, 1 << 40):
        lists = signals_module.slot_lists(devices, since)
        assert list(lists) == list(devices)
        assert lists == {name: list(card.slots(since)) for name, card in devices.items()}
    assert any(signals_module.slot_lists(devices, signals.since_slot).values())
