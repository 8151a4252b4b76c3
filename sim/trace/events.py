"""Segment Spec v1 events as plain dicts.

A device is a little radio station: it keeps one ``context`` (what it is,
which OS and app, which locale and time zone) and stamps it on every message
it sends. The builders here only assemble the shape the Segment Spec
defines; who sends what, and when, is the world's business.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson

SegmentEvent = dict[str, Any]
EventType = Literal["identify", "track", "page", "screen", "alias", "group"]

DEVICE_TYPES: tuple[str, ...] = ("phone", "tablet", "laptop", "watch", "car", "tv", "speaker")
EVENT_TYPES: tuple[str, ...] = ("identify", "track", "page", "screen", "alias", "group")
LIBRARY = {"name": "hopsim", "version": "0.1.0"}


def iso_ms(moment: datetime) -> str:
    """UTC ISO-8601 with milliseconds and a ``Z``: ``2026-11-02T07:13:05.123Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """The inverse of :func:`iso_ms` (accepts any ISO-8601 with offset or ``Z``)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class Context(dict[str, Any]):
    """An event's ``context`` that remembers its own JSON.

    A device sends the same context with every event from one place, so it is
    encoded once, when sealed, and the trace writer splices those bytes in
    instead of encoding the same dict again for every event. A sealed context
    is never changed.
    """

    __slots__ = ("fragment",)

    def seal(self) -> Context:
        # orjson's result keeps its 4 KB working buffer; an exact copy holds ~300 bytes.
        encoded = bytes(memoryview(orjson.dumps(self, option=orjson.OPT_SORT_KEYS)))
        self.fragment = orjson.Fragment(encoded)
        return self


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
