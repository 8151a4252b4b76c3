"""Segment Spec v1 events as plain dicts.

A device is a little radio station: it keeps one ``context`` (what it is,
which OS and app, which locale and time zone) and stamps it on every message
it sends. The builders here only assemble the shape the Segment Spec
defines; who sends what, and when, is the world's business.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

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


class Clock:
    """Turns SimPy seconds since the scenario start into UTC timestamps."""

    def __init__(self, start: datetime) -> None:
        self.start = start.astimezone(UTC)

    def at(self, seconds: float) -> datetime:
        return self.start + timedelta(seconds=seconds)

    def stamp(self, seconds: float) -> str:
        return iso_ms(self.at(seconds))


def base_event(
    kind: EventType,
    message_id: str,
    timestamp: str,
    context: dict[str, Any],
    anonymous_id: str | None,
    user_id: str | None,
) -> SegmentEvent:
    event: SegmentEvent = {"type": kind, "messageId": message_id, "timestamp": timestamp}
    if anonymous_id is not None:
        event["anonymousId"] = anonymous_id
    if user_id is not None:
        event["userId"] = user_id
    event["context"] = context
    return event
