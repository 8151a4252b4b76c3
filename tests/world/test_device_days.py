"""The switch-rate tally keeps counts, not a diary, and counts the same as a diary would."""

from __future__ import annotations

import random

from sim.world.outcomes import UseDays


def test_tally_matches_a_full_diary() -> None:
    rng = random.Random(5)
    tally = UseDays()
    diary: dict[int, set[str]] = {}
    for day in range(60):
        for _ in range(rng.randrange(0, 4)):
            device = rng.choice("abc")
            tally.note("p-1", day, device)
            diary.setdefault(day, set()).add(device)
        assert len(tally.open) <= 1  # one open day per person, never a diary
    tally.close_all()
    assert tally.days == {str(day): 1 for day in diary}
    assert tally.switched == {str(day): len(used) >= 2 for day, used in diary.items()}


def test_open_days_are_counted() -> None:
    tally = UseDays()
    tally.note("p-1", 0, "phone")
    tally.note("p-1", 0, "laptop")
    tally.close_all()
    assert (sum(tally.days.values()), sum(tally.switched.values())) == (1, 1)
