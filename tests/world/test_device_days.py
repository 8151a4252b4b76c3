"""The switch-rate tally keeps counts, not a diary, and counts the same as a diary would."""

from __future__ import annotations

import random

from sim.world.people import DeviceDays


def test_tally_matches_a_full_diary() -> None:
    rng = random.Random(5)
    tally = DeviceDays()
    diary: dict[int, set[str]] = {}
    for day in range(60):
        for _ in range(rng.randrange(0, 4)):
            device = rng.choice("abc")
            tally.note(day, device)
            diary.setdefault(day, set()).add(device)
    expected = (len(diary), sum(len(used) >= 2 for used in diary.values()))
    assert tally.totals() == expected
    assert len(tally.open) <= 2


def test_open_days_are_counted() -> None:
    tally = DeviceDays()
    tally.note(0, "phone")
    tally.note(0, "laptop")
    assert tally.totals() == (1, 1)
