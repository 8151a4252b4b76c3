"""Audience segments: does this profile belong to the campaign's crowd?

A bouncer with a short list: traits (``subscriptions.email = true``, an age
range), behaviour counts (at least one ``Product Added``, no ``Order
Completed``), a region seen in ``context.location`` and the kinds of device the
profile has been seen on. Everything is checked against what events said,
never against the simulation's ground truth.
"""

from __future__ import annotations

from typing import Any

from sim.engine.messaging.config import Audience
from sim.engine.messaging.profiles import ProfileCard


def trait_matches(actual: Any, wanted: Any) -> bool:
    """Equality, a list of allowed values, or a ``{min, max}`` range."""
    if isinstance(wanted, dict):
        if not isinstance(actual, int | float) or isinstance(actual, bool):
            return False
        low, high = wanted.get("min"), wanted.get("max")
        return (low is None or actual >= low) and (high is None or actual <= high)
    if isinstance(wanted, list):
        return actual in wanted
    return bool(actual == wanted)


def matches(audience: Audience, state: ProfileCard) -> bool:
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
    return True
