"""The trace clock's hand-made stamps: ISO-8601 exactly, in time order, on the right calendar day."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sim.trace.clock import Clock, iso_ms

DAY_MS = 86_400_000


def test_stamps_match_iso_formatting_in_any_order() -> None:
    clock = Clock(datetime(2026, 3, 28, 22, 45, 10, 250_000, tzinfo=UTC))
    rng = random.Random(5)
    moments = [rng.randrange(0, 5 * DAY_MS) for _ in range(20_000)]
    moments += [DAY_MS - 1, 0, 4_490_000, 4_489_999, 4_490_001]  # around the first midnight
    for elapsed in moments:
        expected = iso_ms(clock.start + timedelta(milliseconds=elapsed))
        assert clock.stamp_ms(elapsed) == expected


def test_stamps_read_back_to_the_moment_they_name() -> None:
    clock = Clock(datetime(2026, 10, 24, 23, 59, 59, 999_000, tzinfo=UTC))
    rng = random.Random(7)
    for seconds in [0.0, 0.001, 0.5, 59.25, *(rng.uniform(0, 30 * 86_400) for _ in range(2_000))]:
        read = datetime.fromisoformat(clock.stamp(seconds))  # Python's own reading of the text
        # A stamp drops the sub-millisecond rest (``at`` rounds it to the microsecond).
        assert timedelta(0) <= clock.at(seconds) - read <= timedelta(milliseconds=1)
        assert read.microsecond % 1000 == 0


def test_text_order_is_time_order() -> None:
    """The trace sorts by the timestamp text; that must be the order of the moments."""
    clock = Clock(datetime(2026, 12, 30, 21, 0, tzinfo=UTC))
    rng = random.Random(11)
    moments = sorted({rng.randrange(0, 4 * DAY_MS) for _ in range(5_000)})
    stamps = [clock.stamp_ms(ms) for ms in moments]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


def test_year_end_and_leap_day() -> None:
    clock = Clock(datetime(2027, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC))
    assert clock.stamp_ms(0) == "2027-12-31T23:59:59.999Z"
    assert clock.stamp_ms(1) == "2028-01-01T00:00:00.000Z"
    assert clock.stamp_ms(59 * DAY_MS + 1) == "2028-02-29T00:00:00.000Z"
    assert clock.stamp_ms(60 * DAY_MS + 1) == "2028-03-01T00:00:00.000Z"
    # Backwards after a later day was stamped: the date must follow, not stay put.
    assert clock.stamp_ms(0) == "2027-12-31T23:59:59.999Z"


def test_a_local_start_is_stamped_in_utc_across_daylight_saving() -> None:
    """Europe/Berlin springs forward on 2026-03-29: local days shrink, UTC stamps do not."""
    berlin = ZoneInfo("Europe/Berlin")
    clock = Clock(datetime(2026, 3, 28, 12, 0, tzinfo=berlin))  # 11:00 UTC (CET, +01:00)
    assert clock.stamp_ms(0) == "2026-03-28T11:00:00.000Z"
    assert clock.stamp_ms(DAY_MS) == "2026-03-29T11:00:00.000Z"  # 13:00 CEST locally
    assert clock.stamp_ms(2 * DAY_MS) == "2026-03-30T11:00:00.000Z"
    back = Clock(datetime(2026, 10, 25, 2, 30, tzinfo=berlin, fold=1))  # the second 02:30 (CET)
    assert back.stamp_ms(0) == "2026-10-25T01:30:00.000Z"
    assert back.stamp(3_600.0) == "2026-10-25T02:30:00.000Z"
