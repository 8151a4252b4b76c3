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
    days = switched = 0
    for person in people:
        personal = {d.id for d in person.devices if not d.shared}
        if len(personal) < 2:
            continue
        for used in person.devices_by_day.values():
            days += 1
            switched += len(used) >= 2
    return switched / days if days else 0.0


def funnel(people: Iterable[Person]) -> dict[str, int]:
    """How many people reached each journey stage at least once."""
    counts = dict.fromkeys(STAGES, 0)
    for person in people:
        for stage in person.journey.reached:
            counts[stage] += 1
    return counts


def top_paths(people: Iterable[Person], limit: int = 3) -> list[dict[str, object]]:
    """The most common touchpoint trails that ended in an order."""
    counter: dict[tuple[str, ...], int] = {}
    for person in people:
        for trail, _at, _total in person.journey.paths:
            counter[trail] = counter.get(trail, 0) + 1
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [{"path": list(path), "orders": count} for path, count in ranked]
