"""A person's dealt draws: reproducible, in range, with the distributions they name."""

from __future__ import annotations

import math
import statistics

import numpy as np

from sim.world.draws import BLOCK, Draws


def test_the_same_stream_deals_the_same_numbers() -> None:
    first = Draws(np.random.default_rng(7))
    second = Draws(np.random.default_rng(7))
    assert [first.random() for _ in range(3 * BLOCK)] == [second.random() for _ in range(3 * BLOCK)]
    assert [first.normal() for _ in range(BLOCK + 1)] == [second.normal() for _ in range(BLOCK + 1)]


def test_below_covers_every_value_and_nothing_else() -> None:
    draw = Draws(np.random.default_rng(1))
    seen = {draw.below(6) for _ in range(5_000)}
    assert seen == set(range(6))


def test_distributions_have_their_means() -> None:
    draw = Draws(np.random.default_rng(3))
    n = 40_000
    assert abs(statistics.fmean(draw.exponential(5.0) for _ in range(n)) - 5.0) < 0.15
    lognormal = statistics.fmean(draw.lognormal(1.0, 0.5) for _ in range(n))
    assert abs(lognormal - math.exp(1.0 + 0.5**2 / 2)) < 0.05
    uniform = [draw.uniform(10, 40) for _ in range(n)]
    assert min(uniform) >= 10 and max(uniform) < 40
    assert abs(statistics.fmean(uniform) - 25.0) < 0.3
