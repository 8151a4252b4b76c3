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
from sim.trace.events import Clock, EventType, SegmentEvent, base_event
from sim.world.catalog import build_catalog
from sim.world.devices import Device
from sim.world.network import Addresses
from sim.world.people import Household, Person
from sim.world.places import CONTEXTS
from sim.world.population import populate
from sim.world.rng import Streams
from sim.world.scenario import Scenario

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
        self.event_emitted = EventHook()
        self.context_changed = EventHook()
        self.events = 0

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
        """Build a Segment event from ``device`` at the current time and fire it."""
        located = bool(person.opt_in.get("location")) and device.type in LOCATED
        context = device.context_at(self.ip_of(person, device), person.place if located else None)
        event = base_event(
            kind,
            device.next_message_id(),
            self.clock.stamp(self.env.now),
            context,
            device.anonymous_id,
            device.user_id,
        )
        event.update(fields)
        self.events += 1
        self.event_emitted.fire(event=event, person=person, device=device)
        return event

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

    def run(self) -> None:
        self.start()
        self.step_until(self.end)
