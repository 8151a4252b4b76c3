"""Trays: planned events wait, sorted by the minute they happen in.

A session is planned when it starts, so a phone knows at 08:00:00 that its
owner will view a product at 08:00:41. Like a post office sorting letters
into trays by delivery round, every event goes into the tray of its minute;
when the clock passes the end of a minute, that tray is sorted into trace
order (time, then messageId) and handed out. Listeners, the trace writer and
the engine, hear each minute once, in order, a little after it happened.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import simpy

from sim.trace.events import SegmentEvent

if TYPE_CHECKING:
    from sim.world.devices import Device
    from sim.world.people import Person

Event = SegmentEvent
Entry = tuple[int, str, Event, "Person", "Device", str]
Release = Callable[[list[Event], list[Entry]], None]
MINUTE_MS = 60_000


class Trays:
    """Events keyed by minute; ``run`` releases each minute once the clock is past it."""

    def __init__(self, release: Release) -> None:
        self._trays: dict[int, list[Entry]] = {}
        self._next = 0
        self._release = release

    def put(self, ms: int, message_id: str, event: Event, person: Person, device: Device) -> None:
        """File an event sent ``ms`` milliseconds into the run (never before the clock)."""
        minute = ms // MINUTE_MS
        tray = self._trays.get(minute)
        if tray is None:
            tray = self._trays[minute] = []
        tray.append((ms, message_id, event, person, device, person.context))

    def run(self, env: simpy.Environment) -> Generator[Any, Any, None]:
        """At every minute boundary, release the minutes that are over."""
        while True:
            yield env.timeout(60.0)
            self.release_before(int(env.now) // 60)

    def release_before(self, minute: int) -> None:
        trays = self._trays
        while self._next < minute:
            tray = trays.pop(self._next, None)
            self._next += 1
            if tray:
                self._out(tray)

    def drain(self) -> None:
        """Release everything still waiting, in order (the end of a run)."""
        for minute in sorted(self._trays):
            self._out(self._trays.pop(minute))
            self._next = max(self._next, minute + 1)

    def _out(self, tray: list[Entry]) -> None:
        tray.sort()
        self._release([entry[2] for entry in tray], tray)

    def __len__(self) -> int:
        return sum(len(tray) for tray in self._trays.values())
