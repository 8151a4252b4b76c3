"""Daily routines: a persona's blocks of context laid onto a real calendar.

Monday for Kaylee is class at nine, the gym at four, the car in between; on
Saturday she sleeps in. A routine is that template; a day plan is the template
pinned to one local date in the person's time zone, with each boundary shifted
by a little random jitter so no two Mondays are identical.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np

from sim.world.people import Person
from sim.world.persona import Block
from sim.world.places import ABSTRACT, CONTEXTS

# The context a worker's ``commute`` block becomes, by the mode they drew.
MODE_CONTEXT = {
    "car": "car.driving",
    "transit": "commute.transit",
    "walk": "commute.walk",
    "home": "home.office",
}

Plan = list[tuple[float, float, Block]]


def local_midnight(start: datetime, person: Person, day: int) -> float:
    """Seconds from the scenario start to local midnight of ``day`` for this person."""
    date = (start + timedelta(days=day)).date()
    local = datetime(date.year, date.month, date.day, tzinfo=person.zone)
    return (local - start).total_seconds()


def day_kind(person: Person, day: int, weekday: int, rng: np.random.Generator) -> str:
    """Weekday, weekend, or a travel day (trips start at random and last 2-4 days)."""
    if day <= person.travelling_until:
        return "travel"
    if rng.random() < person.persona.trips_per_month / 30.0:
        person.travelling_until = day + int(rng.integers(1, 4))
        return "travel"
    return "weekend" if weekday >= 5 else "weekday"


def plan_day(start: datetime, person: Person, day: int, rng: np.random.Generator) -> Plan:
    """Pin the routine for ``day`` to sim seconds, with jittered, ordered boundaries."""
    base = local_midnight(start, person, day)
    weekday = (start + timedelta(days=day)).weekday()
    blocks = [
        placed(person, b) for b in person.persona.routine[day_kind(person, day, weekday, rng)]
    ]
    starts: list[float] = []
    for block in blocks:
        shift = rng.normal(0.0, block.jitter) if block.jitter else 0.0
        minute = min(max(block.start + shift, 0.0), 1439.0)
        starts.append(max(minute, starts[-1] + 1.0) if starts else block.start)
    ends = [*starts[1:], float(blocks[-1].end)]
    return [
        (base + s * 60.0, base + e * 60.0, b)
        for s, e, b in zip(starts, ends, blocks, strict=True)
        if e > s
    ]


def placed(person: Person, block: Block) -> Block:
    """The block as this person lives it: a commute by their own mode; no office if they work from home."""
    office = block.context == "work.office" and person.commute == "home"
    if block.context not in ABSTRACT and not office:
        return block
    concrete = person.placed.get(id(block))
    if concrete is None:
        concrete = person.placed[id(block)] = commute_block(person.commute or "transit", block)
    return concrete


def commute_block(mode: str, block: Block) -> Block:
    """The commute (or, working from home, the office) block for one mode of getting to work.

    Driving, only the car's own system is in use (no phone in hand); on transit
    or on foot, whatever the block lists that is at hand there; at home, the
    home office's devices.
    """
    name = MODE_CONTEXT[mode]
    if mode == "car":
        use = {"car": block.use["car"]} if "car" in block.use else {}
    else:
        at_hand = CONTEXTS[name].at_hand
        use = {k: v for k, v in block.use.items() if k in at_hand and k != "car"}
    return replace(block, context=name, use=use)
