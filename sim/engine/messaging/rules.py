"""Audience rules: all / any / none of conditions on traits and on behaviour in a time window.

A bouncer's clipboard with nested boxes, shaped as Customer.io's and
Iterable's segment builders are: a box says whether *all*, *any* or *none*
of what is inside must hold, and a box may hold boxes. What is inside is a
condition on the stitched profile card:

- ``{ event = "Order Completed", min = 2, within_days = 30 }``: performed the
  event at least ``min`` (default 1; 0 when only ``max`` is given) and at most
  ``max`` times, in the last
  days or hours (``within_days``, ``within_hours``; all time without), counting
  only events whose properties match (``properties = { product_id = "p-7" }``);
  "has not done X in 7 days" is ``max = 0`` or a ``none`` box around it;
- ``{ trait = "age", value = { min = 30 } }`` (equality, a list, a range) or
  ``{ trait = "firstName", exists = true }``;
- ``{ region = ["NY", "NJ"] }``, ``{ device_type = ["watch"] }``;
- ``{ segment = "repeat-buyers" }``: a named segment of ``[programme.segments]``,
  defined above the one that names it.

```toml
audience = { all = [{ event = "Product Viewed", properties = { product_id = "p-7" } },
                    { none = [{ event = "Order Completed", within_days = 7 }] }] }
```

Behaviour is counted from the events the profile's devices sent, per rule
key (the event name and its property filter), and each count keeps only the
times its longest window can still see. Nothing reads ground truth.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from sim.trace.clock import DAY
from sim.trace.events import DEVICE_TYPES

GROUPS: tuple[str, ...] = ("all", "any", "none")
LEAVES: tuple[str, ...] = ("event", "trait", "region", "device_type", "segment")
EVENT_KEYS = frozenset(["event", "min", "max", "within_days", "within_hours", "properties"])
TRAIT_KEYS = frozenset(["trait", "value", "exists"])
FOREVER = float("inf")


@dataclass(frozen=True)
class Did:
    """Performed ``event`` (its properties matching) ``least``..``most`` times within ``within`` s."""

    event: str
    properties: dict[str, Any] = field(default_factory=dict)
    least: int = 1
    most: int | None = None
    within: float = FOREVER

    @cached_property
    def key(self) -> str:
        """Where the profile card files the times of matching events."""
        if not self.properties:
            return self.event
        return f"{self.event}|{json.dumps(self.properties, sort_keys=True, default=str)}"


@dataclass(frozen=True)
class Trait:
    trait: str
    value: Any = None
    exists: bool | None = None  # set: only whether the trait is there at all


@dataclass(frozen=True)
class Region:
    regions: tuple[str, ...]


@dataclass(frozen=True)
class OnDevice:
    types: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    op: str  # all | any | none
    items: tuple[Rule, ...]


Rule = Group | Did | Trait | Region | OnDevice


class _Device(Protocol):
    @property
    def type(self) -> str: ...


class Card(Protocol):
    """What a rule reads of a profile card (``profiles.ProfileCard`` is one)."""

    @property
    def history(self) -> Mapping[str, list[float]]: ...

    @property
    def region(self) -> str: ...

    @property
    def devices(self) -> Mapping[str, _Device]: ...

    def trait(self, key: str) -> Any: ...


class Checker(Protocol):
    """What a rule parser needs from the campaign or journey checker it reports through."""

    def fail(self, key: str, expected: str, got: object = None) -> None: ...

    def event(self, value: object, key: str) -> str: ...


# ---- evaluating ----------------------------------------------------------------------------


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


def count_since(times: list[float], since: float) -> int:
    """Times at or after ``since`` in a sorted list (an event stamped a little ahead of the
    engine's clock has happened as far as the engine knows: it counts, and never flips back)."""
    return len(times) - bisect_left(times, since)


def holds(rule: Rule, card: Card, now: float) -> bool:
    """Does the profile card meet the rule at ``now`` (scenario seconds)?"""
    if isinstance(rule, Group):
        if rule.op == "all":
            return all(holds(r, card, now) for r in rule.items)
        hit = any(holds(r, card, now) for r in rule.items)
        return hit if rule.op == "any" else not hit
    if isinstance(rule, Did):
        times = card.history.get(rule.key)
        n = count_since(times, now - rule.within) if times else 0
        return n >= rule.least and (rule.most is None or n <= rule.most)
    if isinstance(rule, Trait):
        actual = card.trait(rule.trait)
        if rule.exists is not None:
            return (actual is not None and actual != "") is rule.exists
        return trait_matches(actual, rule.value)
    if isinstance(rule, Region):
        return card.region in rule.regions
    return any(d.type in rule.types for d in card.devices.values())


def leaves(rule: Rule) -> list[Rule]:
    """Every condition in the tree, boxes opened."""
    if isinstance(rule, Group):
        return [leaf for item in rule.items for leaf in leaves(item)]
    return [rule]


def tallies(rules: list[Rule]) -> dict[str, dict[str, tuple[dict[str, Any], float]]]:
    """Per event name, the keys to file its times under: (property filter, longest window)."""
    out: dict[str, dict[str, tuple[dict[str, Any], float]]] = {}
    for rule in rules:
        for leaf in leaves(rule):
            if isinstance(leaf, Did):
                keys = out.setdefault(leaf.event, {})
                _, longest = keys.get(leaf.key, (leaf.properties, 0.0))
                keys[leaf.key] = (leaf.properties, max(longest, leaf.within))
    return out


def events_read(rule: Rule) -> frozenset[str]:
    """Event names whose arrival may change what the rule says."""
    return frozenset(leaf.event for leaf in leaves(rule) if isinstance(leaf, Did))


# ---- parsing -------------------------------------------------------------------------------


def parse_rule(
    check: Checker,
    raw: object,
    key: str,
    traits: frozenset[str],
    segments: Mapping[str, Rule],
) -> Rule | None:
    """One condition or box; problems go to ``check`` naming ``key`` (``audience.all[1].event``)."""
    if isinstance(raw, str):  # a segment's name, where a rule is expected
        return _segment(check, raw, key, segments)
    if not isinstance(raw, dict):
        check.fail(key, "a table: { all | any | none = [...] } or one condition", raw)
        return None
    kinds = [k for k in (*GROUPS, *LEAVES) if k in raw]
    if len(kinds) != 1:
        check.fail(key, f"exactly one of {[*GROUPS, *LEAVES]}", sorted(raw))
        return None
    kind = kinds[0]
    if kind in GROUPS:
        return _group(check, raw, key, kind, traits, segments)
    if kind == "event":
        return _did(check, raw, key)
    if kind == "trait":
        return _trait(check, raw, key, traits)
    _only(check, raw, key, frozenset([kind]))
    if kind == "segment":
        return _segment(check, raw["segment"], f"{key}.segment", segments)
    values = raw[kind]
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        check.fail(f"{key}.{kind}", "a non-empty list of names", values)
        return None
    if kind == "region":
        return Region(tuple(values))
    for value in values:
        if value not in DEVICE_TYPES:
            check.fail(f"{key}.device_type", f"names from {list(DEVICE_TYPES)}", value)
    return OnDevice(tuple(values))


def _only(check: Checker, raw: dict[str, Any], key: str, allowed: frozenset[str]) -> None:
    for name in raw:
        if name not in allowed:
            check.fail(f"{key}.{name}", f"one of {sorted(allowed)}", name)


def _group(
    check: Checker,
    raw: dict[str, Any],
    key: str,
    op: str,
    traits: frozenset[str],
    segments: Mapping[str, Rule],
) -> Rule | None:
    _only(check, raw, key, frozenset([op]))
    items = raw[op]
    if not isinstance(items, list) or not items:
        check.fail(f"{key}.{op}", "a non-empty array of conditions", items)
        return None
    parsed = [
        parse_rule(check, item, f"{key}.{op}[{i}]", traits, segments)
        for i, item in enumerate(items)
    ]
    return Group(op, tuple(r for r in parsed if r is not None))


def _did(check: Checker, raw: dict[str, Any], key: str) -> Rule | None:
    _only(check, raw, key, EVENT_KEYS)
    name = check.event(raw["event"], f"{key}.event")
    props = raw.get("properties", {})
    if not isinstance(props, dict):
        check.fail(f"{key}.properties", "a table of property = value", props)
        props = {}
    least = _count(check, raw, "min", key, 1)
    most = _count(check, raw, "max", key, None)
    if most is not None and least > most and "min" in raw:
        check.fail(f"{key}.max", f"a count >= min ({least})", most)
    if most is not None and "min" not in raw:
        least = 0  # "at most N times" includes none ("max = 0": has not done it)
    windows = [w for w in ("within_days", "within_hours") if w in raw]
    within = FOREVER
    if len(windows) > 1:
        check.fail(key, "at most one of within_days, within_hours", windows)
    elif windows:
        value = raw[windows[0]]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            check.fail(f"{key}.{windows[0]}", "a number > 0", value)
        else:
            within = float(value) * (DAY if windows[0] == "within_days" else 3600.0)
    return Did(name, dict(props), least, most, within)


def _count(check: Checker, raw: dict[str, Any], name: str, key: str, default: int | None) -> Any:
    if name not in raw:
        return default
    value = raw[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        check.fail(f"{key}.{name}", "a whole number >= 0", value)
        return default
    return value


def _trait(check: Checker, raw: dict[str, Any], key: str, traits: frozenset[str]) -> Rule | None:
    _only(check, raw, key, TRAIT_KEYS)
    name = raw["trait"]
    if name not in traits:
        check.fail(f"{key}.trait", f"a known trait from {sorted(traits)}", name)
        return None
    if "exists" in raw:
        if not isinstance(raw["exists"], bool) or "value" in raw:
            check.fail(f"{key}.exists", "true or false, without value", raw["exists"])
            return None
        return Trait(str(name), exists=raw["exists"])
    if "value" not in raw:
        check.fail(key, "value (or exists) for the trait", None)
        return None
    return Trait(str(name), raw["value"])


def _segment(check: Checker, name: object, key: str, segments: Mapping[str, Rule]) -> Rule | None:
    if not isinstance(name, str) or name not in segments:
        known = sorted(segments) or "none defined"
        check.fail(key, f"the name of a segment in [programme.segments] ({known})", name)
        return None
    return segments[name]
