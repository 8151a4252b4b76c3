"""First sightings: when each thing the graph numbers by arrival first appeared.

A graph numbers several things in the order it first meets them: profiles
(the creation counter that orders ``profiles()`` and breaks merge ties),
devices, networks and event names; and its merge log is in event order.
Graphs that each saw one shard of the households can only be put together
as if one graph had seen everything (:mod:`sim.engine.identity.shards`) if
each of those numbers can be given again in the global order. So the graph
notes, for each, the order key of the event that made it: its trace
position ``(timestamp, messageId)``. Only events that create something are
noted; the repeated ones take the fast path and cost one length check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Key = tuple[str, str]
"""An event's place in the trace: ``(timestamp, messageId)``."""


def order_key(event: Mapping[str, Any]) -> Key:
    """``(timestamp, messageId)`` of an event ("" for a missing or non-text part)."""
    stamp, message = event.get("timestamp"), event.get("messageId")
    return (stamp if type(stamp) is str else "", message if type(message) is str else "")


class Sightings:
    """Order keys of the events that created profiles, devices, networks, names, log entries.

    ``profiles[i]`` is the key of profile number ``i + 1``; ``devices``,
    ``networks`` and ``names`` follow the graph's numbering (devices in the
    order of ``graph.devices``); ``log`` holds ``(index, key)`` for the first
    merge-log entry each logging event wrote.
    """

    __slots__ = ("devices", "last", "log", "named", "names", "networks", "profiles")

    def __init__(self) -> None:
        self.profiles: list[Key] = []
        self.devices: list[Key] = []
        self.networks: list[Key] = []
        self.names: list[Key] = []
        self.named = 0
        self.log: list[tuple[int, Key]] = []
        self.last: Key = ("", "")
        """The key of the latest event that created something (for an event that is no object)."""

    def name(self, key: Key) -> None:
        self.names.append(key)
        self.named += 1

    def logged(self, start: int, end: int, key: Key) -> None:
        """Entries ``start`` to ``end`` of the merge log were written by the event at ``key``."""
        if end > start:
            self.log.append((start, key))
