"""The world: one SimPy environment, its clock, its people and its event hook.

Like Locust's Environment, one object wires the pieces: the scenario, the
random streams, the address pools, the catalogue and the households. People
are SimPy processes; whatever they do on a device becomes a Segment event
fired through ``event_emitted`` for the trace writer and the engine to hear.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import simpy

from sim.hooks import EventHook
from sim.trace.events import Clock, EventType, SegmentEvent
from sim.world.brand import Brand, categories, device_use
from sim.world.catalog import build_catalog
from sim.world.devices import Device
from sim.world.network import Addresses
from sim.world.outcomes import Outcomes
from sim.world.people import Household, Person
from sim.world.places import CONTEXTS
from sim.world.population import populate
from sim.world.rng import Streams
from sim.world.scenario import Scenario
from sim.world.trays import Entry, Trays

DAY = 86_400.0
LOCATED = ("phone", "watch", "car")


class World:
    """A scenario made runnable: ``World(scenario).run()`` plays every day of it."""

    def __init__(self, scenario: Scenario, shard: tuple[int, int] = (0, 1)) -> None:
        self.scenario = scenario
        self.env = simpy.Environment()
        self.clock = Clock(scenario.start)
        self.streams = Streams(scenario.seed)
        self.addresses = Addresses(
            self.streams.get("addresses"), scenario.network, max(1, scenario.persons)
        )
        self.catalog = build_catalog(self.streams.get("catalog"))
        self.households = populate(scenario, self.streams, self.addresses, shard)
        self._by_id = {h.id: h for h in self.households}
        self.events_released = EventHook()
        self.event_emitted = EventHook()
        self.trays = Trays(self.release)
        self.env.process(self.trays.run(self.env))
        self.context_changed = EventHook()
        self.device_used = EventHook()  # every pick-up, brand session or not (ground truth)
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
        event: SegmentEvent = {"type": kind, **fields}
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
        network = CONTEXTS[person.context].network
        if device.type == "car":
            network = "mobile"
        if network == "home" and device.type == "phone" and person.ips.get("phone_on_cell") == "1":
            network = "mobile"
        return person.ips.get(network) or self.household_of(person).home_ip

    def start(self) -> None:
        """Put every person's life on the SimPy calendar."""
        from sim.world.life import live

        for person in self.people():
            self.env.process(live(self, person))

    def step_until(self, until: float) -> None:
        """Advance the clock to ``until`` seconds (runs may advance in slices)."""
        self.env.run(until=until)

    def finish(self) -> None:
        """Let every planned event out: sessions begun before the end play to their end."""
        self.trays.drain()

    def run(self) -> None:
        self.start()
        self.step_until(self.end)
        self.finish()
