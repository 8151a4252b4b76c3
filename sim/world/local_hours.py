"""Local clock hours of the run's moments, worked out by arithmetic.

Every pick-up is tallied by the hour on the person's own clock (and a North
American phone's by the Eastern hour too): ``clock.at(t).astimezone(zone).hour``.
Building two datetimes for that costs more than the rest of the tally. A time
zone's offset from UTC changes a few times a year at most, so it is looked up
once per zone and hour of the run and kept; the local hour is then the UTC
time of day plus that offset, counted in whole hours. A moment within a
millisecond of an hour's edge, or an hour in which the zone's clocks change,
is still asked of the datetimes: there rounding could tell a different hour.
"""

from __future__ import annotations

from datetime import tzinfo

from sim.trace.clock import Clock

HOUR = 3600.0
EDGE = 1e-3  # seconds: closer than this to an hour's edge, the datetimes decide
_UNSEEN = -1.0e9  # no offset is this far from UTC: the zone's hour not looked up yet


class LocalHours:
    """``hour(zone, t)``: the hour on a clock in ``zone`` at ``t`` seconds into the run."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        start = clock.start
        self._since_midnight = (
            start.hour * 3600 + start.minute * 60 + start.second + start.microsecond / 1e6
        )
        self._offsets: dict[tuple[tzinfo, int], float | None] = {}

    def hour(self, zone: tzinfo, seconds: float) -> int:
        """``clock.at(seconds).astimezone(zone).hour``, without the datetimes."""
        # NOTE: the zone's UTC offset kept per hour of the run; the hour is arithmetic (test_speed_tricks.py).
        bucket = int(seconds // HOUR)
        into = seconds - bucket * HOUR
        offset = self._offsets.get((zone, bucket), _UNSEEN)
        if offset == _UNSEEN:
            offset = self._offsets[(zone, bucket)] = self._steady_offset(zone, bucket)
        if offset is None or into < EDGE or into > HOUR - EDGE:
            return self.slow_hour(zone, seconds)
        local = self._since_midnight + seconds + offset
        within = local % HOUR
        if within < EDGE or within > HOUR - EDGE:
            return self.slow_hour(zone, seconds)
        return int(local // HOUR) % 24

    def slow_hour(self, zone: tzinfo, seconds: float) -> int:
        """The plain way: a UTC datetime, moved into ``zone``."""
        return self.clock.at(seconds).astimezone(zone).hour

    def _steady_offset(self, zone: tzinfo, bucket: int) -> float | None:
        """The zone's UTC offset through the run's hour ``bucket`` (None: its clocks change then).

        The offset is read at both ends of the stretch the arithmetic answers
        for (the hour but its last ``EDGE``); no zone changes its clocks twice
        within one hour, so equal ends mean a steady stretch.
        """
        first = self.clock.at(bucket * HOUR).astimezone(zone).utcoffset()
        last = self.clock.at((bucket + 1) * HOUR - EDGE / 2).astimezone(zone).utcoffset()
        if first is None or first != last:
            return None
        return first.total_seconds()
