"""A person's life as a SimPy process: days of contexts, and sessions within them.

Each person walks through their day plan block by block. Inside a block,
sessions arrive like a Poisson stream at the block's rate; each session picks
the device that fits the context (the speaker in the kitchen, the car while
driving, the laptop in class) and plays out in :mod:`sim.world.sessions`.
"""

from __future__ import annotations

from collections.abc import Generator
from itertools import accumulate
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


def start_lives(world: World) -> None:
    """Put every person's life on the world's SimPy calendar (the run does this, once)."""
    for person in world.people():
        world.env.process(live(world, person))


def play(world: World) -> None:
    """Every day of the world at once: lives started, the clock run to the end, trays drained."""
    start_lives(world)
    world.step_until(world.end)
    world.finish()


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
    draw = person.draw
    addresses = world.addresses
    person.context = block.context
    if person.travelling_until >= day and "travel" not in person.ips:
        person.ips["travel"] = addresses.travel(draw)
    if person.travelling_until < day:
        person.ips.pop("travel", None)
    person.ips["work"] = addresses.employer(person.employer)
    person.ips["campus"] = addresses.campus(draw)
    person.ips["mobile"] = addresses.carrier(person.carrier, draw)
    person.ips["phone_on_cell"] = "1" if draw.random() < 0.15 else "0"
    world.context_changed.fire(person=person, context=block.context, at=world.env.now)


def spend(world: World, person: Person, block: Block, end: float, day: int) -> Process:
    """Sessions arrive as a Poisson stream; the person wakes once per session.

    The next arrival is drawn from the moment the last session ends, and a
    session that runs past the block's end holds the person until it is over.
    """
    env = world.env
    rate = block.sessions_per_hour / 3600.0
    free = env.now
    if rate > 0:
        mean = 1.0 / rate
        draw = person.draw
        while (start := free + draw.exponential(mean)) < end:
            yield env.timeout(start - env.now)
            device = choose_device(world, person, block)
            free = start if device is None else max(start, session(world, person, device, day))
    if max(end, free) > env.now:
        yield env.timeout(max(end, free) - env.now)


def choose_device(world: World, person: Person, block: Block) -> Device | None:
    """The device that fits the context, weighted by the block's ``use`` table."""
    menu = person.menus.get(id(block))
    if menu is None:
        menu = person.menus[id(block)] = device_menu(person, block)
    devices, edges = menu
    if not devices:
        return None
    point = person.draw.random() * edges[-1]
    device = devices[-1]
    for candidate, edge in zip(devices, edges, strict=True):
        if point < edge:
            device = candidate
            break
    return borrow_partner_device(world, person, device, block)


def device_menu(person: Person, block: Block) -> tuple[list[Device], list[float]]:
    """The person's devices at hand in ``block``, with cumulative choice weights."""
    at_hand = CONTEXTS[block.context].at_hand
    devices = [d for d in person.devices if d.type in at_hand and block.use.get(d.type, 0.0) > 0]
    edges = list(accumulate(block.use[d.type] * _label_weight(d, block) for d in devices))
    return devices, edges


def _label_weight(device: Device, block: Block) -> float:
    """With two of a kind (Susan's phones), the work one wins at work and loses elsewhere.

    A device's ``share`` (persona data) scales it against others of its kind.
    """
    if device.spec.label != "work":
        return device.spec.share
    return device.spec.share * (4.0 if block.context in WORK_CONTEXTS else 0.25)


def borrow_partner_device(world: World, person: Person, device: Device, block: Block) -> Device:
    """Sometimes a person at home picks up a partner's tablet or laptop instead."""
    if not block.context.startswith("home.") or device.type not in ("phone", "tablet", "laptop"):
        return device
    if person.draw.random() >= world.scenario.partner_device_use:
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
    choice = borrowed[person.draw.below(len(borrowed))]
    if person.id not in choice.used_by:
        choice.used_by.append(person.id)
    return choice
