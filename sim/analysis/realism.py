"""Realism checks: does the simulated population behave like the studies say?

Google's multi-screen study found that 98% of people who use several devices
move between them in the same day. Our measure: among people owning two or
more personal devices, the share of their active person-days on which they
used two or more devices.
"""

from __future__ import annotations

from collections.abc import Iterable

from sim.world.journey import STAGES
from sim.world.people import Person


def switch_rate(people: Iterable[Person]) -> float:
    days, switched = switch_days(people)
    return switched / days if days else 0.0


def switch_days(people: Iterable[Person]) -> tuple[int, int]:
    """(person-days counted, person-days with two or more devices used)."""
    days = switched = 0
    for person in people:
        personal = {d.id for d in person.devices if not d.shared}
        if len(personal) < 2:
            continue
        active, two_or_more = person.device_days.totals()
        days += active
        switched += two_or_more
    return days, switched


def funnel(people: Iterable[Person]) -> dict[str, int]:
    """How many people reached each journey stage at least once."""
    counts = dict.fromkeys(STAGES, 0)
    for person in people:
        for stage in person.journey.reached:
            counts[stage] += 1
    return counts
