"""The messenger's per-event clock shortcut agrees with the plain conversions, to the bit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sim.engine.messaging.clock import MessageClock

START = datetime(2026, 11, 2, tzinfo=UTC)
ZONES = ["America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Europe/Warsaw", "UTC", "Nope/Zone"]


@pytest.mark.parametrize("zone", ZONES)
def test_moment_matches_seconds_and_local_hour_across_a_dst_change(zone: str) -> None:
    clock = MessageClock(datetime(2026, 10, 24, tzinfo=UTC))  # Europe leaves DST on Oct 25
    for step in range(0, 3 * 86_400 * 1000, 7_777_777):  # odd milliseconds over three days
        stamp = clock.stamp(step / 1000.0)
        at, hour = clock.moment(stamp, zone)
        assert at == clock.seconds(stamp)
        assert hour == clock.local_hour(at, zone) == clock.local_minute(at, zone) // 60


def test_moment_reads_timestamps_in_other_iso_shapes() -> None:
    clock = MessageClock(START)
    assert clock.moment("2026-11-02T06:30:00+01:00", "Europe/Warsaw") == (19_800.0, 6)
    assert clock.moment("2026-11-02T05:30:00Z", "America/New_York") == (19_800.0, 0)


def test_moment_forgets_zones_beyond_its_bound_without_changing_answers() -> None:
    clock = MessageClock(START)
    stamp = clock.stamp(3_600.5)
    for k in range(600):
        clock.moment(stamp, f"Etc/GMT{'+' if k % 2 else '-'}{k % 12}")
    assert clock.moment(stamp, "Asia/Tokyo") == (3_600.5, 10)


@pytest.mark.parametrize("zone", ZONES)
def test_moment_within_a_minute_keeps_the_hour_across_zone_changes(zone: str) -> None:
    clock = MessageClock(datetime(2026, 10, 24, tzinfo=UTC))
    start = 86_400 * 1000  # the day Europe leaves DST, every 7.777 s for six hours
    for step in range(start, start + 6 * 3_600_000, 7_777):
        stamp = clock.stamp(step / 1000.0)
        assert clock.moment(stamp, zone) == (
            clock.seconds(stamp),
            clock.local_hour(step / 1000.0, zone),
        )
