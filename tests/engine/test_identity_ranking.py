"""Picking the best candidate without sorting them all gives the sorted answer.

``_best`` needs only the first of the ranking (best score, ties to the older
profile) and the runner-up's score, so it finds those two directly; here
they are checked against the full sort on many small rankings with ties.
"""

from __future__ import annotations

import random

import numpy as np

from sim.engine.identity.probabilistic import Ranked, top_two
from sim.engine.identity.state import ProfileState


def sortedtop_two(ranked: list[Ranked]) -> tuple[Ranked, float]:
    ordered = sorted(ranked, key=lambda item: (-item[0], item[1].number))
    return ordered[0], ordered[1][0] if len(ordered) > 1 else 0.0


def testtop_two_is_the_head_of_the_sorted_ranking() -> None:
    draw = random.Random(7)
    scores = (-3.5, -0.68, 0.0, 1.32, 4.17, 6.0, 9.1)
    for _ in range(2000):
        numbers = draw.sample(range(50), draw.randint(1, 6))
        ranked: list[Ranked] = [
            (draw.choice(scores), ProfileState(n), (None, None, None, None)) for n in numbers
        ]
        values = np.array([item[0] for item in ranked])
        top, second = top_two(values, np.array(numbers, dtype=np.intp))
        expected_top, expected_second = sortedtop_two(ranked)
        assert ranked[top] is expected_top
        assert second == expected_second
        assert type(second) is float
