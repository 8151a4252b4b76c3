"""The scenario's ``[identity]`` table: which rules run and how far they may go.

Think of it as the house rules of the cloakroom: which tickets may be pinned
together (deterministic rules), whether the attendant may guess from
circumstantial evidence (probabilistic rules, and which kinds of evidence),
how sure a guess must be (``threshold``, ``margin``), and how much one coat
hook may hold (merge limits, as in Segment Unify). Every problem found is
reported at once, each naming the file, the key and what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.engine.identity.identifiers import KINDS
from sim.errors import Problems

RULE_NAMES: tuple[str, ...] = ("ip", "time", "behaviour")
DEVICE_TYPES: tuple[str, ...] = ("phone", "tablet", "laptop", "watch", "car", "tv", "speaker")

_INT_KEYS: dict[str, int] = {
    "max_user_ids": 1,
    "max_device_ids": 12,
    "max_anonymous_ids": 64,
    "max_emails": 4,
    "max_phones": 4,
    "public_ip_devices": 12,
    "max_household_persons": 8,
}
_FLOAT_KEYS: dict[str, float] = {"threshold": 6.0, "margin": 3.0, "household_threshold": 3.0}
_BOOL_KEYS: tuple[str, ...] = ("deterministic", "probabilistic")
_LIST_KEYS: tuple[str, ...] = ("priority", "blocked_values", "household_device_types")
KNOWN_KEYS: frozenset[str] = frozenset(
    [*_INT_KEYS, *_FLOAT_KEYS, *_BOOL_KEYS, *_LIST_KEYS, "rules"]
)


@dataclass(frozen=True)
class IdentityConfig:
    """Validated identity settings; defaults are the shipped behaviour.

    - ``deterministic``: identify/alias/login link anonymousId, device id,
      userId, hashed email and phone. Off: each device stays its own profile.
    - ``probabilistic``: at ``finalize()`` never-identified devices are linked by
      scored evidence; ``rules`` switches each kind of evidence
      (``ip`` home network and co-presence, ``time`` adjacency, ``behaviour``).
    - ``threshold``: minimum Fellegi-Sunter weight (log2 units) to link a device
      to a person; ``margin``: how far ahead of the runner-up the best person
      must be, otherwise the device goes to the household.
    - ``household_threshold``: minimum weight to attach a device to a household.
    - ``max_*``: merge limits per profile; ``priority`` orders identifier kinds,
      the lowest is dropped first when a merge would break a limit.
    - ``public_ip_devices``: an address seen on more devices than this is public
      (carrier NAT, hotel, airport, office) and never used as a home network.
    """

    deterministic: bool = True
    probabilistic: bool = True
    rules: Mapping[str, bool] = field(default_factory=lambda: dict.fromkeys(RULE_NAMES, True))
    threshold: float = _FLOAT_KEYS["threshold"]
    margin: float = _FLOAT_KEYS["margin"]
    household_threshold: float = _FLOAT_KEYS["household_threshold"]
    max_user_ids: int = _INT_KEYS["max_user_ids"]
    max_device_ids: int = _INT_KEYS["max_device_ids"]
    max_anonymous_ids: int = _INT_KEYS["max_anonymous_ids"]
    max_emails: int = _INT_KEYS["max_emails"]
    max_phones: int = _INT_KEYS["max_phones"]
    public_ip_devices: int = _INT_KEYS["public_ip_devices"]
    max_household_persons: int = _INT_KEYS["max_household_persons"]
    priority: tuple[str, ...] = KINDS
    blocked_values: tuple[str, ...] = ()
    household_device_types: tuple[str, ...] = ("tv", "speaker")

    def rule_on(self, name: str) -> bool:
        return self.probabilistic and bool(self.rules.get(name, False))

    def limit(self, kind: str) -> int:
        """The most identifiers of ``kind`` one profile may hold."""
        return {
            "userId": self.max_user_ids,
            "deviceId": self.max_device_ids,
            "anonymousId": self.max_anonymous_ids,
            "email": self.max_emails,
            "phone": self.max_phones,
        }[kind]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str) -> IdentityConfig:
        """Validate an ``[identity]`` table; raise ``ConfigError`` listing every problem."""
        check = Problems(where, "[identity].")
        values: dict[str, Any] = {}
        for key in sorted(set(data) - KNOWN_KEYS):
            check.say(key, f"unknown key; expected one of {sorted(KNOWN_KEYS)}")
        for key in _BOOL_KEYS:
            if key in data:
                values[key] = _bool(data[key], key, check)
        for key in _INT_KEYS:
            if key in data:
                values[key] = _positive_int(data[key], key, check)
        for key in _FLOAT_KEYS:
            if key in data:
                values[key] = _number(data[key], key, check)
        if "rules" in data:
            values["rules"] = _rules(data["rules"], check)
        if "priority" in data:
            values["priority"] = _priority(data["priority"], check)
        if "blocked_values" in data:
            values["blocked_values"] = _strings(data["blocked_values"], "blocked_values", check)
        if "household_device_types" in data:
            values["household_device_types"] = _device_types(data["household_device_types"], check)
        check.raise_if_any()
        return cls(**values)


def _bool(value: Any, key: str, check: Problems) -> bool:
    if not isinstance(value, bool):
        check.fail(key, "true or false", value)
        return False
    return value


def _positive_int(value: Any, key: str, check: Problems) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        check.fail(key, "an integer >= 1", value)
        return 1
    return value


def _number(value: Any, key: str, check: Problems) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        check.fail(key, "a number", value)
        return 0.0
    return float(value)


def _rules(value: Any, check: Problems) -> dict[str, bool]:
    if not isinstance(value, Mapping):
        check.fail("rules", "a table like {ip = true, time = true, behaviour = true}", value)
        return {}
    rules = dict.fromkeys(RULE_NAMES, True)
    for name, flag in value.items():
        if name not in RULE_NAMES:
            check.say(f"rules.{name}", f"unknown rule; expected one of {list(RULE_NAMES)}")
        else:
            rules[name] = _bool(flag, f"rules.{name}", check)
    return rules


def _strings(value: Any, key: str, check: Problems) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        check.fail(key, "a list of strings", value)
        return ()
    return tuple(value)


def _priority(value: Any, check: Problems) -> tuple[str, ...]:
    kinds = _strings(value, "priority", check)
    if kinds and (sorted(kinds) != sorted(KINDS)):
        check.fail("priority", f"each of {list(KINDS)} exactly once", list(kinds))
    return kinds


def _device_types(value: Any, check: Problems) -> tuple[str, ...]:
    types = _strings(value, "household_device_types", check)
    for name in types:
        if name not in DEVICE_TYPES:
            check.say(
                "household_device_types",
                f"unknown device type {name!r}; expected any of {list(DEVICE_TYPES)}",
            )
    return types
