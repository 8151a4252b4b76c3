"""Identifiers: the name tags an event carries, cleaned before they touch the graph.

Picture a cloakroom. Every event hands over a few tickets: the SDK install id
(``anonymousId``), the hardware id (``context.device.id``), the account
(``userId``), and on ``identify`` an email or phone number. Before a ticket
goes on the board it is checked: the wrong type, an absurd length or a junk
value ("", "null", "undefined", "anonymous", all zeros...) is turned away with
a reason, because one junk ticket shared by a million devices would fuse them
all into one person. Emails and phones are normalised and hashed (SHA-256) on
the way in; the raw value is never kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

USER_ID: Final = "userId"
EMAIL: Final = "email"
PHONE: Final = "phone"
DEVICE_ID: Final = "deviceId"
ANONYMOUS_ID: Final = "anonymousId"

KINDS: Final[tuple[str, ...]] = (USER_ID, EMAIL, PHONE, DEVICE_ID, ANONYMOUS_ID)
"""Every identifier kind, in the default priority order (highest first)."""

MAX_LENGTH: Final = 256
"""Longer than this is not an identifier but a mistake (or an attack)."""

JUNK_VALUES: Final[frozenset[str]] = frozenset(
    {
        "",
        "null",
        "none",
        "nil",
        "nan",
        "undefined",
        "anonymous",
        "anon",
        "unknown",
        "n/a",
        "na",
        "-",
        "-1",
        "0",
        "guest",
        "test",
        "user",
        "default",
        "[object object]",
        "true",
        "false",
        "{}",
        "[]",
    }
)
"""Values SDKs and careless code send when they have no real id."""

ZERO_CHARS: Final[frozenset[str]] = frozenset("0-:")


class Blocklist:
    """Decides whether a raw identifier value is usable; says why not."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self.values = JUNK_VALUES | {v.strip().lower() for v in extra}

    def reason(self, value: object) -> str | None:
        """``None`` when ``value`` is a usable identifier, otherwise the refusal reason."""
        if not isinstance(value, str):
            if isinstance(value, int) and not isinstance(value, bool):
                return None if value > 0 else "junk value"
            return f"wrong type {type(value).__name__}"
        if len(value) > MAX_LENGTH:
            return f"absurd length {len(value)} > {MAX_LENGTH}"
        folded = value.strip().lower()
        if folded in self.values:
            return "junk value"
        if set(folded) <= ZERO_CHARS:
            return "junk value (all zeros)"
        return None


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_email(raw: str) -> str | None:
    """Lower-cased, stripped, SHA-256; ``None`` when it cannot be an address."""
    folded = raw.strip().lower()
    if "@" not in folded or folded.startswith("@") or folded.endswith("@"):
        return None
    return sha256_hex(folded)


def hash_phone(raw: str | int) -> str | None:
    """Digits only (``+1 (555) 010-2030`` -> ``15550102030``), SHA-256; too short is junk."""
    digits = "".join(ch for ch in str(raw) if ch.isdigit())
    if len(digits) < 7 or set(digits) == {"0"}:
        return None
    return sha256_hex(digits)


def is_sha256(text: str) -> bool:
    return len(text) == 64 and all(ch in "0123456789abcdef" for ch in text)


def trait_sources(event: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Where traits live: ``traits`` on identify, ``context.traits`` on any event."""
    found: list[Mapping[str, Any]] = []
    traits = event.get("traits")
    if isinstance(traits, Mapping):
        found.append(traits)
    context = event.get("context")
    if isinstance(context, Mapping):
        inner = context.get("traits")
        if isinstance(inner, Mapping):
            found.append(inner)
    return found


def hashed_email_of(traits: Mapping[str, Any]) -> str | bool | None:
    """The hashed email in ``traits``; ``False`` when one was given but is unusable."""
    raw = traits.get("email")
    if isinstance(raw, str) and raw.strip():
        return hash_email(raw) or False
    pre = traits.get("email_sha256")
    if isinstance(pre, str) and pre:
        return pre.lower() if is_sha256(pre.lower()) else False
    return None


def hashed_phone_of(traits: Mapping[str, Any]) -> str | bool | None:
    """The hashed phone in ``traits``; ``False`` when one was given but is unusable."""
    raw = traits.get("phone")
    if isinstance(raw, (str, int)) and not isinstance(raw, bool) and str(raw).strip():
        return hash_phone(raw) or False
    pre = traits.get("phone_sha256")
    if isinstance(pre, str) and pre:
        return pre.lower() if is_sha256(pre.lower()) else False
    return None
