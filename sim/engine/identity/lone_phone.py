"""One phone at home: when a home network shows exactly one person, its loose personal devices are theirs.

The picture: a flat where, all week, one phone sleeps on the home Wi-Fi,
and a laptop and a watch sleep there too, none of them logged in. A phone
stands for a person, and so does an account that logged in anywhere; here
there is exactly one of either, so the laptop and the watch can only be
that person's (a partner who never shows a phone or an account leaves no
trace to give the laptop to instead). The one person may be identified or
not: a never-identified phone's profile takes the loose devices, and if its
person logs in one day the whole profile is theirs.

Precision first: nothing moves at a home with two or more persons (they are
the "taking turns" pass's), with no phone-or-account person, or where more
profiles sleep than ``max_household_persons`` times :data:`CROWD_FACTOR`
(a dormitory, a hostel, a network shared by many). TVs and speakers
(``household_device_types``) stay on the household, and watches are left
alone (on the default population a watch sleeping at a one-phone home was
the phone's owner's only five times in twelve). Every move is logged
with rule ``lone_phone``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.engine.identity.person import PHONE, join_person
from sim.engine.identity.signals import Signals, Summary
from sim.engine.identity.state import ProfileState

if TYPE_CHECKING:
    from sim.engine.identity.graphstate import GraphState

LONE_PHONE = "lone_phone"
WATCH = "watch"
"""A watch is left out: it is worn, not left at home (half the watches so placed were a partner's)."""
CROWD_FACTOR = 2
"""A home with more sleeping profiles than this many times ``max_household_persons`` is not a home."""


def lone_phones(graph: GraphState) -> None:
    """Each home with exactly one person (a phone or an account) gives them its loose devices."""
    signals = Signals(graph.devices, graph.book.public(), graph.config.household_device_types)
    kept = set(graph.config.household_device_types)
    homes: dict[int, list[Summary]] = {}
    for state in graph.registry.live():
        if state.kind != "person" or not state.device_ids or state.parent is not None:
            continue
        summary = signals.summarise(state)
        if summary.home is not None:
            homes.setdefault(summary.home, []).append(summary)
    limit = CROWD_FACTOR * graph.config.max_household_persons
    for _, group in sorted(homes.items()):
        if len(group) > limit:
            continue
        persons = [s.state for s in group if _is_person(signals, s.state)]
        if len(persons) != 1:
            continue
        for summary in group:
            state = summary.state
            types = {signals.device_type(d) for d in state.device_ids}
            if state is persons[0] or types & kept or WATCH in types:
                continue
            join_person(graph, persons[0], state, LONE_PHONE, "the only person at this home")


def _is_person(signals: Signals, state: ProfileState) -> bool:
    """A profile that stands for a person: it logged in, or it holds a phone."""
    return state.identified() or any(signals.device_type(d) == PHONE for d in state.device_ids)
