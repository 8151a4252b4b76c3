"""Segment Spec v1 events as plain dicts: the type every layer passes around.

A device is a little radio station: it keeps one ``context`` (what it is,
which OS and app, which locale and time zone) and stamps it on every message
it sends. This module names the shape (``SegmentEvent``, the six call
types, the device types) and the sealed context; who sends what, and when, is
the world's business, the names of message events are in
:mod:`sim.trace.vocabulary`, and time stamps in :mod:`sim.trace.clock`.
Events stay plain dicts because millions of them pass through a run: the
type is a ``TypedDict`` that costs nothing at run time, and each boundary where
events come in from outside (the HTTP collector's
:func:`sim.serve.validate.check_event`, a trace file read back by
:func:`sim.trace.reader.read_events`) checks the shape once.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

import orjson

EventType = Literal["identify", "track", "page", "screen", "alias", "group"]


class SegmentEvent(TypedDict, total=False):
    """One Segment Spec v1 message (the common fields and those of the six call types).

    Every key is optional to the type checker; which ones a call type requires
    (``userId`` or ``anonymousId``; ``event`` for track, ``previousId`` for
    alias, ``groupId`` for group) is checked at the boundaries.
    """

    type: EventType
    messageId: str
    timestamp: str
    originalTimestamp: str
    sentAt: str
    receivedAt: str
    anonymousId: str
    userId: str
    previousId: str
    groupId: str
    event: str
    name: str
    category: str
    properties: dict[str, Any]
    traits: dict[str, Any]
    context: dict[str, Any]
    integrations: dict[str, Any]
    version: int


DEVICE_TYPES: tuple[str, ...] = ("phone", "tablet", "laptop", "watch", "car", "tv", "speaker")
EVENT_TYPES: tuple[str, ...] = ("identify", "track", "page", "screen", "alias", "group")
LIBRARY = {"name": "hopsim", "version": "0.1.0"}


class EventContext(dict[str, Any]):
    """An event's ``context`` that remembers its own JSON.

    A device sends the same context with every event from one place, so it is
    encoded once, when sealed, and the trace writer splices those bytes in
    instead of encoding the same dict again for every event. A sealed context
    is never changed.
    """

    __slots__ = ("fragment",)

    def seal(self) -> EventContext:
        # orjson's result keeps its 4 KB working buffer; an exact copy holds ~300 bytes.
        encoded = bytes(memoryview(orjson.dumps(self, option=orjson.OPT_SORT_KEYS)))
        self.fragment = orjson.Fragment(encoded)
        return self
