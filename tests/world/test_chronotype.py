"""Chronotypes: people sleep at their own hours, owls past midnight, larks early."""

from __future__ import annotations

import numpy as np
import pytest

from sim.world.brand import device_use
from sim.world.persona import Block
from sim.world.population import chronotype
from sim.world.routine import sleep_shifted

DAY = [
    Block("home.sleep", 0, 390, 0, 0.0, {}),
    Block("home.kitchen", 390, 450, 15, 1.5, {"phone": 1.0}),
    Block("work.office", 450, 1050, 20, 1.0, {"laptop": 1.0}),
    Block("home.living_room", 1155, 1380, 30, 1.0, {"phone": 1.0}),
    Block("home.sleep", 1380, 1440, 0, 0.0, {}),
]


def spans(blocks: list[Block]) -> list[tuple[str, int, int]]:
    return [(b.context, b.start, b.end) for b in blocks]


def test_an_owl_carries_the_evening_past_midnight_and_keeps_the_alarm_on_work_days() -> None:
    assert spans(sleep_shifted(DAY, 90, free=False)) == [
        ("home.living_room", 0, 30),
        ("home.sleep", 30, 390),
        ("home.kitchen", 390, 450),
        ("work.office", 450, 1050),
        ("home.living_room", 1155, 1440),
    ]


def test_an_owl_sleeps_in_on_a_free_day_and_a_lark_sleeps_early_every_day() -> None:
    free = spans(sleep_shifted(DAY, 30, free=True))
    assert free[0] == ("home.sleep", 0, 420) and free[-1] == ("home.sleep", 1410, 1440)
    lark = spans(sleep_shifted(DAY, -60, free=False))
    assert lark[0] == ("home.sleep", 0, 330) and lark[-1] == ("home.sleep", 1320, 1440)


SATURDAY = [
    Block("home.sleep", 0, 510, 0, 0.0, {}),
    Block("home.kitchen", 510, 600, 30, 1.5, {"phone": 1.0}),
    Block("errands", 600, 780, 45, 0.8, {"phone": 1.0}),
    Block("home.living_room", 1170, 1440, 30, 1.0, {"phone": 1.0}),
]


def test_a_day_up_until_midnight_has_its_bedtime_at_midnight_shifted_too() -> None:
    """The commuter's Saturday ends in the living room at 24:00: an owl stays up past it and sleeps in."""
    assert spans(sleep_shifted(SATURDAY, 60, free=True)) == [
        ("home.living_room", 0, 60),
        ("home.sleep", 60, 570),
        ("home.kitchen", 570, 600),
        ("errands", 600, 780),
        ("home.living_room", 1170, 1440),
    ]
    assert spans(sleep_shifted(SATURDAY, -60, free=True)) == [
        ("home.sleep", 0, 450),
        ("home.kitchen", 450, 600),
        ("errands", 600, 780),
        ("home.living_room", 1170, 1380),
        ("home.sleep", 1380, 1440),
    ]


def test_a_night_shift_and_a_zero_shift_keep_their_own_hours() -> None:
    night = [DAY[2], DAY[0], DAY[1], DAY[3], DAY[2]]
    assert sleep_shifted(night, 120, free=True) is night
    assert sleep_shifted(DAY, 0, free=True) is DAY


def test_chronotypes_spread_like_the_mctq_and_stop_at_the_extremes() -> None:
    use = device_use()
    draws = [chronotype(np.random.default_rng(seed)) for seed in range(3000)]
    assert float(np.std(draws)) == pytest.approx(use.chronotype_sd, rel=0.06)
    assert max(abs(d) for d in draws) <= use.chronotype_max
