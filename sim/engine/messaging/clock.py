"""Time as the messenger sees it: seconds since the scenario start, and local clocks.

The engine owns no clock. ``tick(now)`` says what time it is (seconds since
the scenario started) and every event carries a UTC timestamp; the scenario
start, bound once, ties the two together. Local time comes from the time zone
a device reports in ``context.timezone``, so quiet hours follow the person
across the DST change and across the country.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sim.trace.clock import DAY

DEFAULT_START = datetime(2026, 11, 2, tzinfo=UTC)
HOUR = 3600.0
ZONES_KEPT: Final = 512  # zones whose last minute is remembered before starting afresh


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class MessageClock:
    """Converts between UTC timestamps, scenario seconds and local wall clocks."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self.start = start.astimezone(UTC)
        self.epoch = self.start.timestamp()
        self._minutes: dict[str, tuple[str, float, int]] = {}  # zone -> last minute, hour

    def moment(self, stamp: str, tz: str) -> tuple[float, int]:
        """Scenario seconds of a UTC timestamp and the hour it is on the local clock of ``tz``.

        The messenger asks this for every event. Events of one zone arrive in
        time order, mostly several in the same minute, so each zone remembers
        the last UTC minute it was asked about with that minute's epoch and
        local hour: a minute never straddles an hour or a quarter hour (when
        offsets change), so with a whole-minute offset every instant in it has
        that hour. The answers are those of ``seconds`` and ``local_hour``.
        """
        if len(stamp) != 24 or stamp[19] != "." or stamp[23] != "Z":
            at = self.seconds(stamp)
            return at, self.local_hour(at, tz)
        prefix = stamp[:16]
        last = self._minutes.get(tz)
        if last is not None and last[0] == prefix:
            return last[1] + int(stamp[17:19]) + int(stamp[20:23]) / 1000.0 - self.epoch, last[2]
        minute = _minute_epoch(prefix)  # ``seconds``, inlined
        at = minute + int(stamp[17:19]) + int(stamp[20:23]) / 1000.0 - self.epoch
        epoch = self.epoch + at
        offset = zone_offset(tz, int(epoch // 900))
        hour = int((epoch + offset) % DAY // 3600)
        if offset % 60.0 == 0.0:
            if len(self._minutes) >= ZONES_KEPT:
                self._minutes.clear()
            self._minutes[tz] = (prefix, minute, hour)
        return at, hour

    def local_hour(self, seconds: float, tz: str) -> int:
        """Hour of the local day (0..23) at scenario second ``seconds``."""
        epoch = self.epoch + seconds
        return int((epoch + zone_offset(tz, int(epoch // 900))) % DAY // 3600)

    def seconds(self, stamp: str) -> float:
        """Scenario seconds of a UTC ISO timestamp (``...Z``); the minute is parsed once."""
        if len(stamp) == 24 and stamp[19] == "." and stamp[23] == "Z":
            minute = _minute_epoch(stamp[:16])
            return minute + int(stamp[17:19]) + int(stamp[20:23]) / 1000.0 - self.epoch
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        return moment.timestamp() - self.epoch

    def at(self, seconds: float) -> datetime:
        return self.start + timedelta(seconds=seconds)

    def stamp(self, seconds: float) -> str:
        moment = self.at(seconds)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def offset(self, seconds: float, tz: str) -> float:
        """Seconds to add to UTC for the local wall clock of ``tz`` at that moment."""
        return zone_offset(tz, int((self.epoch + seconds) // 900))

    def local_minute(self, seconds: float, tz: str) -> int:
        """Minute of the local day (0..1439)."""
        local = self.epoch + seconds + self.offset(seconds, tz)
        return int(local % DAY // 60)

    def local_weekday(self, seconds: float, tz: str) -> int:
        """Monday = 0, in local time."""
        local = self.epoch + seconds + self.offset(seconds, tz)
        return int((local // DAY + 3) % 7)  # 1970-01-01 was a Thursday

    def local_day(self, seconds: float, tz: str) -> int:
        """A counter of local calendar days (for calendar-window caps)."""
        return int((self.epoch + seconds + self.offset(seconds, tz)) // DAY)

    def next_local(self, seconds: float, tz: str, minute: int) -> float:
        """The first moment at or after ``seconds`` whose local clock reads ``minute``."""
        now = self.local_minute(seconds, tz)
        ahead = (minute - now) % 1440
        target = seconds - (seconds % 60) + ahead * 60.0
        # a DST jump can shift the wall clock by an hour: correct once
        drift = (self.local_minute(target, tz) - minute) % 1440
        if drift and drift <= 120:
            target -= drift * 60.0
        elif drift:
            target += (1440 - drift) * 60.0
        return target if target >= seconds else target + DAY


@lru_cache(maxsize=512)  # events arrive in time order: a few hours of minutes is plenty
def _minute_epoch(prefix: str) -> float:
    """Epoch seconds of ``YYYY-MM-DDTHH:MM`` in UTC."""
    return datetime.fromisoformat(prefix).replace(tzinfo=UTC).timestamp()


@lru_cache(maxsize=2048)  # (zone, quarter hour): the zones in use around now
def zone_offset(tz: str, quarter: int) -> float:
    moment = datetime.fromtimestamp(quarter * 900, tz=UTC).astimezone(zone(tz))
    delta = moment.utcoffset()
    return delta.total_seconds() if delta is not None else 0.0
