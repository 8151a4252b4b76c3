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
from sim.engine.identity.scoring import (
    ADJACENT_LIFT,
    PATTERN_SCORES,
    PATTERNS,
    SIMILAR_COSINE,
    Comparison,
    code_of,
    copresence_level,
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
    state = graph.state
    signals = Signals(state.devices, state.book.public())
    persons = [s for s in state.registry.live() if s.kind == "person" and s.device_ids]
    return signals, [signals.summarise(s) for s in persons]


def cosine(a: Counter[int], b: Counter[int]) -> float:
    """Cosine similarity of two count vectors, spelled out (0 when either is empty)."""
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


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


def test_membership_marks_do_not_leak_from_one_question_to_the_next() -> None:
    _, people = summaries()
    blocks = Blocks({p.state.number: p for p in people})
    rows = np.arange(len(people), dtype=np.intp)
    draw = [list(range(0, len(people), 3)), [1, 2], [], list(range(len(people)))]
    for members in draw:
        assert blocks.among(rows, members).tolist() == [r in members for r in range(len(people))]


def test_dots_are_the_integer_products_of_the_name_counts() -> None:
    _, people = summaries()
    blocks = Blocks({p.state.number: p for p in people})
    rows = np.arange(len(people), dtype=np.intp)
    for mine in people[:5]:
        plain = [
            float(sum(int(a) * int(b) for a, b in zip(p.vector, mine.vector, strict=True)))
            for p in people
        ]
        assert blocks.dots(mine, rows).tolist() == plain
    assert any(blocks.dots(people[0], rows)), "some names are shared: the check has teeth"


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
            rows = blocks.candidate_rows(mine, use_time)
            assert blocks.numbers[rows].tolist() == expected
            assert all(
                blocks.members[row] is pool[n] for row, n in zip(rows, expected, strict=True)
            )


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
        assert math.isclose(PATTERN_SCORES[code_of(fields)], expected, abs_tol=1e-12)
        assert PATTERN_SCORES[code_of(fields)] == Comparison(*fields).score()
