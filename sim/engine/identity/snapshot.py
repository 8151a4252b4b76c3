"""Freezing the live graph into public :class:`Profile` records.

Household entities list their members; persons name their household. A
household of one is never shown: its devices were given to the person.
"""

from __future__ import annotations

from sim.engine.identity.records import Profile
from sim.engine.identity.state import ProfileState, public_id, root


def snapshot(live: list[ProfileState], households: list[ProfileState]) -> list[Profile]:
    """Every live profile as a :class:`Profile`, persons then households, by number."""
    members: dict[int, list[str]] = {}
    states = {s.number: s for s in live}
    for household in households:
        states.setdefault(household.number, household)
    for state in states.values():
        if state.kind == "person" and state.household is not None:
            members.setdefault(root(state.household).number, []).append(public_id(state))
    out = [_freeze(s, members) for _, s in sorted(states.items())]
    return [p for p in out if p.kind == "person"] + [p for p in out if p.kind == "household"]


def _freeze(state: ProfileState, members: dict[int, list[str]]) -> Profile:
    household = root(state.household) if state.household is not None else None
    return Profile(
        profile_id=public_id(state),
        kind="household" if state.kind == "household" else "person",
        device_ids=tuple(state.device_ids),
        anonymous_ids=tuple(state.anonymous_ids),
        user_ids=tuple(state.user_ids),
        email_hashes=tuple(state.emails),
        phone_hashes=tuple(state.phones),
        household_id=public_id(household) if household is not None else None,
        household_rule=state.household_rule if household is not None else None,
        members=tuple(sorted(members.get(state.number, []))),
        links={d: state.link_rule(d) for d in state.device_ids},
    )
