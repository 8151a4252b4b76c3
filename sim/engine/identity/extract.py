"""Reading the tickets off one Segment event.

An event is an envelope; the tickets are scattered over it: ``anonymousId``
and ``userId`` at the top, the hardware id under ``context.device.id``, an
email or phone in ``traits`` (identify) or ``context.traits``, and on an
``alias`` the ``previousId``. This module collects them in one list, each
checked by the blocklist, and names the rule the event invokes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sim.engine.identity.identifiers import (
    ANONYMOUS_ID,
    DEVICE_ID,
    EMAIL,
    PHONE,
    USER_ID,
    Blocklist,
    hashed_email_of,
    hashed_phone_of,
    trait_sources,
)

Identifier = tuple[str, str]
Reject = Callable[[str, object, str], None]


def rule_of(event: Mapping[str, Any]) -> str:
    """Which deterministic rule an event invokes."""
    kind = event.get("type")
    if kind == "identify":
        return "identify"
    if kind == "alias":
        return "alias"
    if event.get("userId") is not None:
        return "login"
    return "device"


def device_of(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    context = event.get("context")
    if not isinstance(context, Mapping):
        return None
    device = context.get("device")
    return device if isinstance(device, Mapping) else None


def identifiers_of(
    event: Mapping[str, Any],
    blocklist: Blocklist,
    reject: Reject,
    deterministic: bool,
    is_user: Callable[[str], bool],
) -> list[Identifier]:
    """Every usable identifier in ``event``, highest-trust first; bad ones go to ``reject``."""
    found: list[Identifier] = []
    device = device_of(event)
    raw_pairs: list[tuple[str, object]] = [
        (ANONYMOUS_ID, event.get("anonymousId")),
        (DEVICE_ID, device.get("id") if device is not None else None),
    ]
    if deterministic:
        raw_pairs.insert(0, (USER_ID, event.get("userId")))
        if event.get("type") == "alias":
            raw_pairs.append(_previous(event.get("previousId"), is_user))
    for kind, raw in raw_pairs:
        if raw is None:
            continue
        why = blocklist.reason(raw)
        if why is not None:
            reject(kind, raw, why)
        else:
            found.append((kind, raw if isinstance(raw, str) else str(raw)))
    if deterministic:
        found.extend(_traits(event, reject))
    return found


def _previous(raw: object, is_user: Callable[[str], bool]) -> tuple[str, object]:
    """An alias's ``previousId`` is an earlier userId if we know it as one, else an install id."""
    if isinstance(raw, (str, int)) and not isinstance(raw, bool) and is_user(str(raw)):
        return (USER_ID, raw)
    return (ANONYMOUS_ID, raw)


def _traits(event: Mapping[str, Any], reject: Reject) -> list[Identifier]:
    found: list[Identifier] = []
    for traits in trait_sources(event):
        email = hashed_email_of(traits)
        if email is False:
            reject(EMAIL, "<redacted>", "not an email address")
        elif isinstance(email, str) and (EMAIL, email) not in found:
            found.append((EMAIL, email))
        phone = hashed_phone_of(traits)
        if phone is False:
            reject(PHONE, "<redacted>", "not a phone number")
        elif isinstance(phone, str) and (PHONE, phone) not in found:
            found.append((PHONE, phone))
    return found
