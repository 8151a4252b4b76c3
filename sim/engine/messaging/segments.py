"""Audience segments: does this profile belong to the campaign's crowd?

A bouncer with a short list: traits (``subscriptions.email = true``, an age
range), behaviour counts (at least one ``Product Added``, no ``Order
Completed``), a region seen in ``context.location`` and the kinds of device the
profile has been seen on; then, when the audience has one, a rule of nested
``all``/``any``/``none`` boxes with time windows (:mod:`rules`). Everything is
checked against what events said, never against the simulation's ground truth.
"""

from __future__ import annotations

from sim.engine.messaging.config import Audience
from sim.engine.messaging.profiles import ProfileCard
from sim.engine.messaging.rules import holds, trait_matches

__all__ = ["matches", "trait_matches"]


def matches(audience: Audience, state: ProfileCard, now: float) -> bool:
    """The flat keys (all must hold), then the audience's rule (``all``/``any``/``none``)."""
    if audience.known and not state.traits.get("email"):
        return False
    for key, wanted in audience.traits.items():
        if not trait_matches(state.trait(key), wanted):
            return False
    for name, least in audience.min_events.items():
        if state.counts.get(name, 0) < least:
            return False
    for name, most in audience.max_events.items():
        if state.counts.get(name, 0) > most:
            return False
    if audience.regions and state.region not in audience.regions:
        return False
    if audience.device_types:
        kinds = {d.type for d in state.devices.values()}
        if not kinds.intersection(audience.device_types):
            return False
    return audience.rule is None or holds(audience.rule, state, now)
