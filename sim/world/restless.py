"""Restless nights: some people wake in the night, cannot sleep again, and get up for a while.

About one adult in seven wakes on at least three nights a week and finds it
hard to fall asleep again (Ohayon et al. 2010). Asked what they do when they
cannot sleep, most Americans do something: the TV, a book, a device, music;
a quarter stay in bed and keep trying (CBS News/SSRS 2021). The American
Time Use Survey counts lying awake as sleeping, but the TV at 3 a.m. as
watching TV. So a restless night that gets the person up is a spell in the
living room cut out of the night's sleep in the day's plan: the 3 a.m.
snapshot sees them up, and the screens at hand are picked up at the spell's
own rate (``[restless]`` in ``data/device_use.toml``), so their night use
follows from what they do, as anyone's does in the living room.

Whether a person is restless at all, and each night's draws, come from a
stream of the person's own, so nothing else in the population moves with it.
People a scenario names keep the nights their seed describes.
"""

from __future__ import annotations

from functools import cache

from sim.world.brand import Restless
from sim.world.draws import Draws
from sim.world.people import Person
from sim.world.persona import Block
from sim.world.routine import Plan
from sim.world.world import World

BED = "home.sleep"  # the night's sleep (on a trip too: routines have no hotel bed context)
UP = "home.living_room"  # where a person who gets up in the night goes
MARGIN = 1800.0  # seconds: not in the first or last half hour of the stretch
SPELL = -1  # the spell's block has no clock minutes of a routine (its place is cut per night)


@cache
def up_block(restless: Restless) -> Block:
    """The spell up in the night as a routine block: the living room, its screens and rate."""
    return Block(
        context=UP,
        start=SPELL,
        end=SPELL,
        jitter=0,
        sessions_per_hour=restless.per_hour,
        use=dict(restless.use),
    )


def restless_night(world: World, person: Person, plan: Plan, day: int) -> Plan:
    """The day's plan with tonight's spell up, if this is a night the person gets up.

    Not on a trip: the routines sleep in ``home.sleep`` there too, and a spell
    in the living room would put the traveller on the home network and in
    front of the household's TV. The spell falls in the day's longest stretch of sleep at home (the one
    after midnight for a day worker, the morning one for the night shift),
    at a time drawn evenly within it, and lasts a log-normal number of
    minutes; the sleep before and after it keeps its block.
    """
    restless = world.brand.use.restless
    if restless is None or restless.share <= 0 or person.named or person.age < restless.min_age:
        return plan
    draw = person.restless
    if draw is None:
        draw = person.restless = Draws(world.streams.get("restless", person.id))
        person.restless_habit = draw.random() < restless.share
    if not person.restless_habit or person.away(day):
        return plan
    if draw.random() >= restless.nights or draw.random() >= restless.up_share:
        return plan
    minutes = draw.lognormal(restless.mu, restless.sigma)
    beds = [i for i, (_, _, b) in enumerate(plan) if b.context == BED]
    if not beds:
        return plan
    index = max(beds, key=lambda i: plan[i][1] - plan[i][0])
    start, end, bed = plan[index]
    first, last = start + MARGIN, end - MARGIN - minutes * 60.0
    if last <= first:
        return plan
    up = draw.uniform(first, last)
    down = up + minutes * 60.0
    spell = [(start, up, bed), (up, down, up_block(restless)), (down, end, bed)]
    return [*plan[:index], *spell, *plan[index + 1 :]]
