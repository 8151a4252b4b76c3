"""A person's life as a SimPy process: days of contexts, and sessions within them.

Each person walks through their day plan block by block. Inside a block,
sessions arrive like a Poisson stream at the block's rate; each session picks
the device that fits the context (the speaker in the kitchen, the car while
driving, the laptop in class) and plays out in :mod:`sim.world.sessions`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from sim.world.devices import Device
from sim.world.people import Person
from sim.world.persona import Block
from sim.world.places import CONTEXTS
from sim.world.routine import plan_day
from sim.world.sessions import session
from sim.world.world import World

Process = Generator[Any, Any, None]
WORK_CONTEXTS = ("work.office", "work.cafe", "travel.client", "home.office")


def live(world: World, person: Person) -> Process:
    env = world.env
    for day in range(world.scenario.days + 1):
        for start, end, block in plan_day(world.scenario.start, person, day, person.rng):
            if end <= env.now:
                continue
            if start > env.now:
                yield env.timeout(start - env.now)
            enter(world, person, block, day)
            yield from spend(world, person, block, end, day)


def enter(world: World, person: Person, block: Block, day: int) -> None:
    """Step into a context: pick the addresses this person's devices show there."""
    rng = person.rng
    addresses = world.addresses
    person.context = block.context
    if person.travelling_until >= day and "travel" not in person.ips:
        person.ips["travel"] = addresses.travel(rng)
    if person.travelling_until < day:
        person.ips.pop("travel", None)
    person.ips["work"] = addresses.employer(person.employer)
    person.ips["campus"] = addresses.campus(rng)
    person.ips["mobile"] = addresses.carrier(person.carrier, rng)
    person.ips["phone_on_cell"] = "1" if rng.random() < 0.15 else "0"
    world.context_changed.fire(person=person, context=block.context, at=world.env.now)


def spend(world: World, person: Person, block: Block, end: float, day: int) -> Process:
    env = world.env
    rate = block.sessions_per_hour / 3600.0
    while True:
        wait = float(person.rng.exponential(1.0 / rate)) if rate > 0 else float("inf")
        if env.now + wait >= end:
            yield env.timeout(max(0.0, end - env.now))
            return
        yield env.timeout(wait)
        device = choose_device(world, person, block)
        if device is not None:
            yield from session(world, person, device, day)


def choose_device(world: World, person: Person, block: Block) -> Device | None:
    """The device that fits the context, weighted by the block's ``use`` table."""
    at_hand = CONTEXTS[block.context].at_hand
    candidates = [d for d in person.devices if d.type in at_hand and block.use.get(d.type, 0.0) > 0]
    if not candidates:
        return None
    weights = [block.use[d.type] * _label_weight(d, block) for d in candidates]
    point = float(person.rng.random()) * sum(weights)
    device = candidates[-1]
    for candidate, weight in zip(candidates, weights, strict=True):
        point -= weight
        if point < 0:
            device = candidate
            break
    return borrow_partner_device(world, person, device, block)


def _label_weight(device: Device, block: Block) -> float:
    """With two of a kind (Susan's phones), the work one wins at work and loses elsewhere."""
    if device.spec.label != "work":
        return 1.0
    return 4.0 if block.context in WORK_CONTEXTS else 0.25


def borrow_partner_device(world: World, person: Person, device: Device, block: Block) -> Device:
    """Sometimes a person at home picks up a partner's tablet or laptop instead."""
    if not block.context.startswith("home.") or device.type not in ("phone", "tablet", "laptop"):
        return device
    if person.rng.random() >= world.scenario.partner_device_use:
        return device
    household = world.household_of(person)
    borrowed = [
        d
        for p in household.adults()
        if p is not person
        for d in p.devices
        if d.type in ("tablet", "laptop") and not d.shared
    ]
    if not borrowed:
        return device
    choice = borrowed[int(person.rng.integers(len(borrowed)))]
    if person.id not in choice.used_by:
        choice.used_by.append(person.id)
    return choice
