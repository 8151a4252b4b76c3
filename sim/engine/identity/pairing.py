"""Which watch can pair with which phone: a hard constraint on every link of a watch.

An Apple Watch pairs only with an iPhone; other watches (Wear OS, Galaxy
Watch, most trackers' apps) with phones that are not Apple's. The trace says
who made each device (``context.device.manufacturer``, kept on the evidence
card as ``DeviceEvidence.maker``), so a watch is never linked to a person
whose phones it could not pair with. A maker the trace does not send matches
anything.
"""

from __future__ import annotations

from collections.abc import Mapping

from sim.engine.identity.evidence import DeviceEvidence
from sim.engine.identity.state import ProfileState

WATCH = "watch"
PHONE = "phone"
APPLE = "Apple"


def paired(watch: str, phone: str) -> bool:
    """Whether a watch of maker ``watch`` can pair with a phone of maker ``phone``."""
    if not watch or not phone:
        return True
    return (watch == APPLE) == (phone == APPLE)


def can_pair(
    devices: Mapping[str, DeviceEvidence], state: ProfileState, person: ProfileState
) -> bool:
    """Whether each watch of ``state`` (or of ``person``) pairs with a phone of the other side.

    Profiles without a watch pair with anyone; a watch and a profile
    without a phone do not (a watch reaches the brand through its phone).
    """
    return _watches_fit(devices, state, person) and _watches_fit(devices, person, state)


def _watches_fit(
    devices: Mapping[str, DeviceEvidence], state: ProfileState, person: ProfileState
) -> bool:
    watches = _makers(devices, state, WATCH)
    if not watches or _makers(devices, state, PHONE):
        return True
    phones = _makers(devices, person, PHONE)
    return all(any(paired(watch, phone) for phone in phones) for watch in watches)


def _makers(devices: Mapping[str, DeviceEvidence], state: ProfileState, kind: str) -> list[str]:
    return [
        card.maker
        for device in state.device_ids
        if (card := devices.get(device)) is not None and card.device_type == kind
    ]
