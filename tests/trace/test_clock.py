"""The trace clock's hand-made stamps equal ISO-8601 formatting, back and forth across midnights."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sim.trace.clock import Clock, iso_ms


def test_stamps_match_iso_formatting_in_any_order() -> None:
    clock = Clock(datetime(2026, 3, 28, 22, 45, 10, 250_000, tzinfo=UTC))
    rng = random.Random(5)
    moments = [rng.randrange(0, 5 * 86_400_000) for _ in range(20_000)]
    moments += [86_400_000 - 1, 0, 4_490_000, 4_489_999, 4_490_001]  # around the first midnight
    for elapsed in moments:
        expected = iso_ms(clock.start + timedelta(milliseconds=elapsed))
        assert clock.stamp_ms(elapsed) == expected
        seconds = elapsed / 1000.0
        assert clock.stamp(seconds) == clock.stamp_ms(int(seconds * 1000.0))
