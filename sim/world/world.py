"""The world: one SimPy environment, its clock, its people and its hooks.

Like Locust's Environment, one object holds the pieces: the scenario, the
random streams, the address pools, the catalogue and the households. People
are SimPy processes, put on the calendar by whoever runs the world
(:func:`sim.world.life.start_lives`); whatever they do on a device becomes a
Segment event, released a simulated minute at a time through
``events_released`` for the trace writer and the engine to hear.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, cast

import simpy

from sim.trace.clock import DAY, Clock
from sim.trace.events import EventType, SegmentEvent
from sim.trace.hooks import EventHook
from sim.world.brand import Brand, categories, device_use
from sim.world.catalog import build_catalog
from sim.world.census import load_census
from sim.world.devices import Device
from sim.world.local_hours import LocalHours
from sim.world.network import Addresses, address_of, on_context
from sim.world.outcomes import Outcomes
from sim.world.people import Household, Person
from sim.world.population import populate
from sim.world.rng import Streams
from sim.world.scenario import Scenario
from sim.world.trays import Entry, Trays

LOCATED = ("phone", "watch", "car")


class EventsReleased(Protocol):
    """Listener of :attr:`World.events_released`."""

    def __call__(self, *, events: list[SegmentEvent]) -> None: ...


class EventEmitted(Protocol):
    """Listener of :attr:`World.event_emitted`."""

    def __call__(
        self, *, event: SegmentEvent, person: Person, device: Device, context: str
    ) -> None: ...


class ContextChanged(Protocol):
    """Listener of :attr:`World.context_changed`."""

    def __call__(self, *, person: Person, context: str, at: float) -> None: ...


class DeviceUsed(Protocol):
    """Listener of :attr:`World.device_used`."""

    def __call__(self, *, person: Person, device: Device, context: str, at: float) -> None: ...


class World:
    """A scenario made runnable, one slice of simulated time at a time.

    Its hooks, each fired with keyword arguments only:

    ``events_released(events)``
        Once per simulated minute that has events: ``events`` is that
        minute's list of Segment events in trace order (timestamp, then
        messageId). The trace sink and the engine listen here.
    ``event_emitted(event, person, device, context)``
        After ``events_released``, once per event of the minute, with who sent
        it from which device and the name of the context the person was in
        when it was sent (a key of :data:`sim.world.places.CONTEXTS`). For
        observers that need the sender (tests, notebooks); nothing in a run
        listens, and with no listener it costs nothing.
    ``context_changed(person, context, at)``
        When ``person`` steps into the context named ``context`` (a key of
        :data:`sim.world.places.CONTEXTS`) at ``at`` simulated seconds. The
        run's context log listens (ground truth for the day-in-the-life figure).
    ``device_used(person, device, context, at)``
        Every pick-up of a device, a session with the brand or not (ground
        truth of device use; most pick-ups leave no event in the trace).
        Nothing in a run listens; tests and notebooks do.
    """

    def __init__(self, scenario: Scenario, shard: tuple[int, int] = (0, 1)) -> None:
        self.scenario = scenario
        self.env = simpy.Environment()
        self.clock = Clock(scenario.start)
        self.hours = LocalHours(self.clock)  # local hours of the run's moments, by zone
        self.streams = Streams(scenario.seed)
        self.addresses = Addresses(
            self.streams.get("addresses"), scenario.network, max(1, scenario.persons)
        )
        self.catalog = build_catalog(self.streams.get("catalog"))
        self.census = load_census()
        self.households = populate(scenario, self.streams, self.addresses, shard, self.census)
        self._by_id = {h.id: h for h in self.households}
        self.events_released: EventHook[EventsReleased] = EventHook()
        self.event_emitted: EventHook[EventEmitted] = EventHook()
        self.trays = Trays(self.release)
        self.env.process(self.trays.run(self.env))
        self.context_changed: EventHook[ContextChanged] = EventHook()
        self.context_changed.add_listener(self._reach)
        self.device_used: EventHook[DeviceUsed] = EventHook()
        self.events = 0
        self.brand = Brand(categories()[scenario.brand], device_use())
        self.outcomes = Outcomes()

    @property
    def end(self) -> float:
        return self.scenario.days * DAY

    def people(self) -> Iterator[Person]:
        for household in self.households:
            yield from household.members

    def devices(self) -> Iterator[tuple[Device, str]]:
        """Every device once, with the persona of its owner (or the first user)."""
        seen: set[str] = set()
        for household in self.households:
            for person in household.members:
                for device in person.devices:
                    if device.id not in seen:
                        seen.add(device.id)
                        yield device, person.persona.name

    def household_of(self, person: Person) -> Household:
        return self._by_id[person.household_id]

    def emit(self, person: Person, device: Device, kind: EventType, **fields: Any) -> SegmentEvent:
        """Send a Segment event from ``device`` now (the engine's reactions use this)."""
        event = cast(SegmentEvent, {"type": kind, **fields})
        self.post(person, device, self.env.now, event)
        return event

    def post(
        self,
        person: Person,
        device: Device,
        at: float,
        event: SegmentEvent,
        context: dict[str, Any] | None = None,
    ) -> None:
        """Stamp ``event`` as sent from ``device`` at ``at`` seconds and queue it for its minute.

        Sessions are planned when they start, so ``at`` may lie ahead of the
        clock; the event waits in its minute's tray until the clock has passed.
        ``context`` is the device's context where the person is (looked up if not given).
        """
        ms = int(at * 1000.0)
        device = device.sender
        device.seq += 1
        message_id = f"{device.id}-{device.seq:06d}"
        event["messageId"] = message_id
        event["timestamp"] = self.clock.stamp_ms(ms)
        event["anonymousId"] = device.anonymous_id
        if device.user_id is not None:
            event["userId"] = device.user_id
        event["context"] = context or self.context_of(person, device)
        self.trays.put(ms, message_id, event, person, device)

    def context_of(self, person: Person, device: Device) -> dict[str, Any]:
        """What ``device`` says about itself where ``person`` is now (address, place)."""
        device = device.sender
        located = device.type in LOCATED and bool(person.opt_in.get("location"))
        return device.context_at(self.ip_of(person, device), person.place if located else None)

    def release(self, events: list[SegmentEvent], entries: list[Entry]) -> None:
        """Hand a minute's events, in trace order, to whoever listens."""
        self.events += len(events)
        self.events_released.fire(events=events)
        if self.event_emitted:
            for _, _, event, person, device, context in entries:
                self.event_emitted.fire(event=event, person=person, device=device, context=context)

    def ip_of(self, person: Person, device: Device) -> str:
        """The public address ``device`` shows in the person's current context."""
        return address_of(person, device, self.household_of(person).home_ip)

    def _reach(self, *, person: Person, context: str, at: float) -> None:
        """On entering a context: the network paths of the person's watch and car there."""
        on_context(person, self.addresses, self.census.paths)

    def step_until(self, until: float) -> None:
        """Advance the clock to ``until`` seconds (runs may advance in slices)."""
        self.env.run(until=until)

    def finish(self) -> None:
        """Let every planned event out: sessions begun before the end play to their end."""
        self.trays.drain()
