"""Campaigns as the scenario declares them, checked before anything runs.

A campaign is a recipe card pinned above the switchboard: *when* (a trigger
event and a delay, a moment, a local time of day, or a stretch of silence),
*to whom* (an audience), *what* (one message, rendered per device later),
*how* (channels in order of preference), *how often* (caps, quiet hours) and
*how we know it worked* (a goal event within a window, variants against a
control group). Every problem in every card is collected and reported at once,
each naming the file, the campaign and the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sim.engine.messaging.events import KNOWN_EVENTS, TRAITS
from sim.engine.messaging.rules import GROUPS, Group, Rule, parse_rule
from sim.errors import ConfigError, Problems

CHANNELS: tuple[str, ...] = (
    "push",
    "email",
    "in_app",
    "sms",
    "watch",
    "tv_banner",
    "speaker_voice",
    "car_audio",
)
DEVICE_TYPES: tuple[str, ...] = ("phone", "tablet", "laptop", "watch", "car", "tv", "speaker")
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEND_TIMES: tuple[str, ...] = ("immediate", "optimised")
POLICIES: tuple[str, ...] = ("best_engaged", "ordered")
TOPICS: tuple[str, ...] = ("cart", "storm", "social", "recipe", "offer", "winback", "general")
CAMPAIGN_KEYS = frozenset(
    [
        "name",
        "description",
        "trigger",
        "exit",
        "audience",
        "goal",
        "channels",
        "channel_policy",
        "message",
        "variants",
        "caps",
        "quiet_hours",
        "expires_hours",
        "reentry_hours",
        "remark",
        "source",
    ]
)


AUDIENCE_KEYS = frozenset(
    ["traits", "min_events", "max_events", "regions", "device_types", "known", *GROUPS]
)


@dataclass(frozen=True)
class Trigger:
    """When a profile enters: an event (+ delay), a UTC moment, a local time, or idleness."""

    kind: str  # event | at | local_time | idle
    event: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0  # seconds
    at: datetime | None = None
    local_minute: int = 0
    days: tuple[int, ...] = tuple(range(7))
    idle: float = 0.0  # seconds


@dataclass(frozen=True)
class Audience:
    traits: dict[str, Any] = field(default_factory=dict)
    min_events: dict[str, int] = field(default_factory=dict)
    max_events: dict[str, int] = field(default_factory=dict)
    regions: tuple[str, ...] = ()
    device_types: tuple[str, ...] = ()
    known: bool = False
    rule: Rule | None = None  # all / any / none boxes (sim.engine.messaging.rules)


@dataclass(frozen=True)
class Goal:
    event: str
    properties: dict[str, Any]
    window: float  # seconds


@dataclass(frozen=True)
class Message:
    """One message definition; content.py renders it for each device."""

    title: str
    body: str
    short: str = ""
    spoken: str = ""
    offer: str = ""
    path: str = ""
    place: str = ""
    phone: str = ""
    topic: str = "general"
    tag: str = ""  # programme caps per tag count it
    transactional: bool = False  # exempt from programme caps and the global control group
    locale: str = "en"  # the language of the texts above
    locales: tuple[tuple[str, Message], ...] = ()  # the same message in other languages


@dataclass(frozen=True)
class Variant:
    name: str
    share: float
    control: bool = False
    send_time: str = "immediate"
    channels: tuple[str, ...] = ()
    message: Message | None = None


@dataclass(frozen=True)
class Caps:
    per_channel: int = 2
    total: int = 3
    window: float = 86_400.0  # seconds
    calendar: bool = False  # count per local calendar day instead of a rolling window

    @property
    def horizon(self) -> float:
        """How far back a send can still count: the window, or for calendar days any
        send whose local day may still be today (local clocks lie within a day of UTC)."""
        return 3 * 86_400.0 if self.calendar else self.window


@dataclass(frozen=True)
class QuietHours:
    start: int = 21 * 60  # local minute of day
    end: int = 8 * 60

    def contains(self, minute: int) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end


@dataclass(frozen=True)
class Campaign:
    name: str
    trigger: Trigger
    audience: Audience
    goal: Goal | None
    channels: tuple[str, ...]
    policy: str
    message: Message
    variants: tuple[Variant, ...]
    caps: Caps
    quiet: QuietHours
    exit: tuple[str, ...]
    expires: float  # seconds a pending send may wait for quiet hours / STO
    reentry: float | None  # seconds before a profile may enter again; None: once

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)


class _Check(Problems):
    """Collects problems for one campaign; every message names where and what."""

    def __init__(self, where: str, label: str, problems: list[str]) -> None:
        super().__init__(where, f"{label}.", problems)
        self.label = label

    def table(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.fail(key, "a table", value)
            return {}
        return value

    def number(
        self, data: dict[str, Any], key: str, low: float, default: float, prefix: str = ""
    ) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
            self.fail(prefix + key, f"a number >= {low:g}", value)
            return default
        return float(value)

    def positive_int(self, data: dict[str, Any], key: str, default: int) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(f"caps.{key}", "a whole number >= 1 (a cap of zero would never send)", value)
            return default
        return value

    def unknown_keys(self, raw: dict[str, Any], keys: frozenset[str]) -> None:
        for key in raw:
            if key not in keys:
                self.fail(key, f"one of {sorted(keys)}", key)

    def exits(self, raw: dict[str, Any]) -> tuple[str, ...]:
        """``exit``: the events that take a profile out, one name or a list of them."""
        exits = raw.get("exit", [])
        return tuple(self.event(e, "exit") for e in (exits if isinstance(exits, list) else [exits]))

    def reentry(self, raw: dict[str, Any]) -> float | None:
        """``reentry_hours`` in seconds; ``None`` (never again) when the key is absent."""
        if "reentry_hours" not in raw:
            return None
        return self.number(raw, "reentry_hours", 0.0, 0.0) * 3600.0

    def event(self, value: object, key: str) -> str:
        if not isinstance(value, str) or value not in KNOWN_EVENTS:
            self.fail(key, "a known event name (see docs/messaging.md)", value)
            return ""
        return value

    def clock(self, value: object, key: str) -> int:
        text = str(value)
        try:
            hours, minutes = (int(p) for p in text.split(":"))
            if not (0 <= hours <= 24 and 0 <= minutes < 60):
                raise ValueError(text)
        except ValueError:
            self.fail(key, 'a local time "HH:MM"', value)
            return 0
        return hours * 60 + minutes

    def names(self, value: object, key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, f"a list of names from {list(allowed)}", value)
            return ()
        for item in value:
            if item not in allowed:
                self.fail(key, f"names from {list(allowed)}", item)
        return tuple(v for v in value if v in allowed)


def _trigger(check: _Check, raw: dict[str, Any]) -> Trigger:
    table = check.table(raw, "trigger")
    kinds = [k for k in ("event", "at", "local_time", "idle_days") if k in table]
    if len(kinds) != 1:
        check.fail("trigger", "exactly one of event, at, local_time, idle_days", table or None)
        return Trigger("event")
    delay = check.number(table, "delay_minutes", 0.0, 0.0, "trigger.") * 60.0
    if "event" in kinds:
        props = table.get("properties", {})
        if not isinstance(props, dict):
            check.fail("trigger.properties", "a table of property = value", props)
            props = {}
        return Trigger("event", check.event(table["event"], "trigger.event"), props, delay)
    if "at" in kinds:
        return Trigger("at", at=_moment(check, table["at"]), delay=delay)
    if "local_time" in kinds:
        days = table.get("days", list(WEEKDAYS))
        chosen = check.names(days, "trigger.days", WEEKDAYS)
        return Trigger(
            "local_time",
            local_minute=check.clock(table["local_time"], "trigger.local_time"),
            days=tuple(WEEKDAYS.index(d) for d in chosen),
        )
    return Trigger("idle", idle=check.number(table, "idle_days", 0.01, 1.0, "trigger.") * 86_400.0)


def _moment(check: _Check, value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        check.fail("trigger.at", 'a UTC moment "YYYY-MM-DDTHH:MM:SSZ"', value)
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _audience(
    check: _Check, raw: dict[str, Any], segments: Mapping[str, Rule] | None = None
) -> Audience:
    table = check.table(raw, "audience")
    for key in table:
        if key not in AUDIENCE_KEYS:
            check.fail(f"audience.{key}", f"one of {sorted(AUDIENCE_KEYS)}", key)
    traits = check.table(table, "traits")
    for key in traits:
        if key not in TRAITS:
            check.fail(f"audience.traits.{key}", f"a known trait from {sorted(TRAITS)}", key)
    counts = {}
    for bound in ("min_events", "max_events"):
        part = check.table(table, bound)
        for name, value in part.items():
            check.event(name, f"audience.{bound}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                check.fail(f"audience.{bound}.{name}", "a whole number >= 0", value)
        counts[bound] = {k: int(v) for k, v in part.items() if isinstance(v, int)}
    regions = table.get("regions", [])
    if not isinstance(regions, list):
        check.fail("audience.regions", "a list of region codes", regions)
        regions = []
    kinds = check.names(table.get("device_types", []), "audience.device_types", DEVICE_TYPES)
    boxes = [
        rule
        for op in GROUPS
        if op in table
        and (rule := parse_rule(check, {op: table[op]}, "audience", TRAITS, segments or {}))
    ]
    return Audience(
        dict(traits),
        counts["min_events"],
        counts["max_events"],
        tuple(str(r) for r in regions),
        kinds,
        bool(table.get("known", False)),
        boxes[0] if len(boxes) == 1 else (Group("all", tuple(boxes)) if boxes else None),
    )


def _goal(check: _Check, raw: dict[str, Any]) -> Goal | None:
    if "goal" not in raw:
        return None
    table = check.table(raw, "goal")
    props = table.get("properties", {})
    return Goal(
        check.event(table.get("event"), "goal.event"),
        props if isinstance(props, dict) else {},
        check.number(table, "window_hours", 0.01, 72.0, "goal.") * 3600.0,
    )


def _message(check: _Check, table: dict[str, Any], key: str, base: Message | None) -> Message:
    known = set(Message.__dataclass_fields__) - {"transactional", "locales"}
    for name, value in table.items():
        if name in ("transactional", "locales", "remark", "source"):
            continue
        if name not in known:
            check.fail(
                f"{key}.{name}", f"one of {sorted(known | {'transactional', 'locales'})}", name
            )
        elif not isinstance(value, str):
            check.fail(f"{key}.{name}", "a string", value)
    values: dict[str, Any] = {k: v for k, v in table.items() if k in known and isinstance(v, str)}
    if "transactional" in table:
        if not isinstance(table["transactional"], bool):
            check.fail(f"{key}.transactional", "true or false", table["transactional"])
        values["transactional"] = table["transactional"] is True
    if "locales" in table:
        values["locales"] = _locales(check, table["locales"], key, values, base)
    if values.get("topic", "general") not in TOPICS:
        check.fail(f"{key}.topic", f"one of {list(TOPICS)}", values["topic"])
    if base is not None:
        return Message(**(base.__dict__ | values))
    if not values.get("title") or not values.get("body"):
        check.fail(key, "a table with at least title and body")
        return Message("", "")
    return Message(**values)


LOCAL = ("title", "body", "short", "spoken", "offer", "path")  # what a language may rewrite


def _locales(
    check: _Check, raw: object, key: str, values: dict[str, Any], base: Message | None
) -> tuple[tuple[str, Message], ...]:
    """``locales = { fr = { title = ..., body = ... } }``: each language over the default."""
    if not isinstance(raw, dict):
        check.fail(f"{key}.locales", "a table of language = { title, body, ... }", raw)
        return ()
    default = Message(**((base.__dict__ if base else {}) | {"title": "", "body": ""} | values))
    out = []
    for language, texts in sorted(raw.items()):
        where = f"{key}.locales.{language}"
        if not isinstance(texts, dict):
            check.fail(where, "a table of title, body, short, spoken", texts)
            continue
        for name, value in texts.items():
            if name not in LOCAL:
                check.fail(
                    f"{where}.{name}", "one of title, body, short, spoken, offer, path", name
                )
            elif not isinstance(value, str):
                check.fail(f"{where}.{name}", "a string", value)
        own: dict[str, Any] = {k: v for k, v in texts.items() if k in LOCAL and isinstance(v, str)}
        out.append((language, replace(default, locales=(), locale=language, **own)))
    return tuple(out)


def _variants(
    check: _Check, raw: dict[str, Any], message: Message, channels: tuple[str, ...]
) -> tuple[Variant, ...]:
    items = raw.get("variants", [{"name": "default", "share": 100}])
    if not isinstance(items, list) or not items:
        check.fail("variants", "a non-empty array of tables [[campaigns.variants]]", items)
        return (Variant("default", 100.0),)
    out = []
    for i, item in enumerate(items):
        item = item if isinstance(item, dict) else {}
        key = f"variants[{i}]"
        name = item.get("name")
        if not isinstance(name, str) or not name:
            check.fail(f"{key}.name", "a variant name", name)
            name = f"v{i}"
        send_time = item.get("send_time", "immediate")
        if send_time not in SEND_TIMES:
            check.fail(f"{key}.send_time", f"one of {list(SEND_TIMES)}", send_time)
        own = check.names(item.get("channels", list(channels)), f"{key}.channels", CHANNELS)
        msg = _message(check, check.table(item, "message"), f"{key}.message", message)
        share = check.number(item, "share", 0.0, 0.0, f"{key}.")
        control = bool(item.get("control", False))
        out.append(Variant(name, share, control, str(send_time), own, msg))
    total = sum(v.share for v in out)
    if abs(total - 100.0) > 1e-6:
        check.fail("variants", "shares that sum to 100", total)
    if len({v.name for v in out}) != len(out):
        check.fail("variants", "unique variant names", [v.name for v in out])
    return tuple(out)


def _caps(check: _Check, raw: dict[str, Any]) -> Caps:
    table = check.table(raw, "caps")
    window = table.get("window", "rolling")
    if window not in ("rolling", "calendar"):
        check.fail("caps.window", '"rolling" or "calendar"', window)
    return Caps(
        check.positive_int(table, "per_channel", Caps.per_channel),
        check.positive_int(table, "total", Caps.total),
        check.number(table, "window_hours", 1.0, 24.0, "caps.") * 3600.0,
        window == "calendar",
    )


def _quiet(check: _Check, raw: dict[str, Any]) -> QuietHours:
    table = check.table(raw, "quiet_hours")
    return QuietHours(
        check.clock(table.get("start", "21:00"), "quiet_hours.start"),
        check.clock(table.get("end", "08:00"), "quiet_hours.end"),
    )


def parse_campaign(
    raw: object,
    index: int,
    where: str,
    problems: list[str],
    segments: Mapping[str, Rule] | None = None,
) -> Campaign | None:
    """One ``[[campaigns]]`` table; problems are appended, not raised."""
    opened = open_item(raw, "campaigns", index, where, problems)
    if opened is None:
        return None
    check, raw = opened
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        check.fail("name", "a campaign name", name)
    check.unknown_keys(raw, CAMPAIGN_KEYS)
    channels = check.names(raw.get("channels", ["push", "email"]), "channels", CHANNELS)
    policy = raw.get("channel_policy", "best_engaged")
    if policy not in POLICIES:
        check.fail("channel_policy", f"one of {list(POLICIES)}", policy)
    message = _message(check, check.table(raw, "message"), "message", None)
    return Campaign(
        name=str(name),
        trigger=_trigger(check, raw),
        audience=_audience(check, raw, segments),
        goal=_goal(check, raw),
        channels=channels,
        policy=str(policy),
        message=message,
        variants=_variants(check, raw, message, channels),
        caps=_caps(check, raw),
        quiet=_quiet(check, raw),
        exit=check.exits(raw),
        expires=check.number(raw, "expires_hours", 0.1, 24.0) * 3600.0,
        reentry=check.reentry(raw),
    )


def open_item(
    raw: object, table: str, index: int, where: str, problems: list[str]
) -> tuple[_Check, dict[str, Any]] | None:
    """Item ``index`` of ``[[table]]`` with its checker, labelled ``table[index] (name)``;
    ``None`` and a problem when it is not a table."""
    if not isinstance(raw, dict):
        problems.append(f"{where}: {table}[{index}]: expected a table, got {raw!r}")
        return None
    name = raw.get("name")
    label = f"{table}[{index}]" + (f" ({name})" if isinstance(name, str) else "")
    return _Check(where, label, problems), raw


def repeated_names(names: list[str], where: str, table: str) -> list[str]:
    """A problem for every name two items of ``[[table]]`` share, in name order."""
    return [
        f"{where}: {table}: expected unique names, got {name!r} twice"
        for name in sorted({n for n in names if names.count(n) > 1})
    ]


def parse_campaigns(
    items: list[Any], where: str, segments: Mapping[str, Rule] | None = None
) -> list[Campaign]:
    """Every campaign, or a :class:`ConfigError` listing every problem in every one."""
    problems: list[str] = []
    out = [parse_campaign(raw, i, where, problems, segments) for i, raw in enumerate(items)]
    problems += repeated_names([c.name for c in out if c is not None], where, "campaigns")
    if problems:
        raise ConfigError(problems)
    return [c for c in out if c is not None]


def check_start(
    start: datetime, where: str, moments: Iterable[tuple[str, datetime | None]]
) -> None:
    """A one-off moment before the scenario starts would never fire: say so, for every one.

    ``moments`` pairs each item's key (``campaigns (cart).trigger.at``,
    ``journeys (winback).entry.at``) with its moment, or ``None`` when it has none.
    """
    found = Problems(where)
    for key, at in moments:
        if at is not None and at < start:
            found.say(
                key,
                f"expected a moment at or after the scenario start {start.isoformat()},"
                f" got {at.isoformat()}",
            )
    found.raise_if_any()
