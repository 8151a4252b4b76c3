"""Time in a trace: simulated seconds turned into UTC ISO-8601 stamps with milliseconds.

The world counts SimPy seconds from the scenario's start; a trace line
carries ``2026-11-02T07:13:05.123Z``. Everything that needs a day length or
a stamp takes it from here, so there is one definition of each.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MINUTE = 60.0
DAY = 86_400.0


def iso_ms(moment: datetime) -> str:
    """UTC ISO-8601 with milliseconds and a ``Z``: ``2026-11-02T07:13:05.123Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch_seconds(text: str) -> float:
    """POSIX seconds of an ISO-8601 stamp with ``Z`` or an offset (the trace's ``timestamp``)."""
    return datetime.fromisoformat(text).timestamp()


def parse_iso(text: str) -> datetime:
    """The inverse of :func:`iso_ms` (accepts any ISO-8601 with offset or ``Z``)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


HOURS = [f"{h:02d}:" for h in range(24)]
MINUTES_SECONDS = [f"{m:02d}:{s:02d}." for m in range(60) for s in range(60)]
MILLIS = [f"{ms:03d}Z" for ms in range(1000)]


class Clock:
    """Turns SimPy seconds since the scenario start into UTC timestamps."""

    def __init__(self, start: datetime) -> None:
        self.start = start.astimezone(UTC)
        midnight = self.start.replace(hour=0, minute=0, second=0, microsecond=0)
        self._offset = int((self.start - midnight).total_seconds() * 1000)
        self._midnight = midnight
        self._day_start = -86_400_000  # never a real day: the first stamp sets it
        self._date = ""

    def _new_day(self, since_midnight: int) -> None:
        """Move to the day holding ``since_midnight`` ms after the first midnight."""
        day = since_midnight // 86_400_000
        self._day_start = day * 86_400_000
        self._date = (self._midnight + timedelta(days=day)).strftime("%Y-%m-%dT")

    def at(self, seconds: float) -> datetime:
        return self.start + timedelta(seconds=seconds)

    def stamp(self, seconds: float) -> str:
        """``iso_ms`` of ``at(seconds)``."""
        return self.stamp_ms(int(seconds * 1000.0))

    def stamp_ms(self, elapsed: int) -> str:
        """The stamp ``elapsed`` ms after the start, put together from ready-made pieces.

        The date is formatted once a day; hours, minutes-and-seconds and
        milliseconds come from small tables, so no number is formatted per event.
        """
        ms = elapsed + self._offset - self._day_start
        if not 0 <= ms < 86_400_000:
            self._new_day(elapsed + self._offset)
            ms = elapsed + self._offset - self._day_start
        second = ms // 1000
        milli = ms - second * 1000
        hour = second // 3600
        rest = second - hour * 3600
        return f"{self._date}{HOURS[hour]}{MINUTES_SECONDS[rest]}{MILLIS[milli]}"
