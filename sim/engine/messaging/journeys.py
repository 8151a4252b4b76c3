"""Journeys as the scenario declares them: a graph of steps, checked before anything runs.

A journey is a board game drawn on the wall of the switchboard: a person
enters at the start square (an event, a moment or local time, coming to
match a segment, entering or leaving one, a trait turning to a value such as
push granted), and each square says what happens next. A *message* square
sends one message through the same desk a campaign uses (channel policy,
content per device, quiet hours, caps, send-time optimisation, one push per
person); a *wait* square holds the person for a while, until a local time, or
until an event with a timeout; a *split* square sends them one way or another
on what they did since they entered (opened, clicked, ordered, an event, the
device they used last), on a trait or a segment rule, or at random (a
holdout); "opened" and "clicked" count the journey's own messages; an
*experiment* square deals them onto variant paths by share; an *exit* square
ends the walk. A goal event within the goal window converts the walk, and
(by default) ends it, as does an opt-out or any of the journey's exit events.
A journey may replace or skip the programme's house caps for its messages
(``programme_caps``), and a broadcast may be paced (``rate_limit``).

Every message square becomes a :class:`Campaign` named ``journey/step`` whose
trigger kind is ``journey``: nothing triggers it but the walker, and the
messenger's decision pipeline treats it like any other campaign.

Every problem is collected and reported at once, each naming the file, the
journey, the step and the key: an unknown step kind, a branch to a missing
id, a step nobody can reach, a loop without a wait.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sim.engine.messaging.config import (
    CHANNELS,
    POLICIES,
    SEND_TIMES,
    WEEKDAYS,
    Audience,
    Campaign,
    Goal,
    Trigger,
    Variant,
    _audience,
    _caps,
    _Check,
    _goal,
    _message,
    _moment,
    _quiet,
    open_item,
    repeated_names,
)
from sim.engine.messaging.events import TRAITS
from sim.engine.messaging.programme import ProgrammeCap, parse_caps
from sim.engine.messaging.rules import Rule, events_read, parse_rule
from sim.errors import ConfigError
from sim.trace.vocabulary import OPENED as OPENED_BY_CHANNEL

KINDS: tuple[str, ...] = ("message", "wait", "split", "experiment", "exit")
SPLITS: tuple[str, ...] = (
    "opened",
    "clicked",
    "ordered",
    "event",
    "last_device",
    "trait",
    "segment",
    "random",
)
ENTRIES: tuple[str, ...] = (
    "event",
    "at",
    "local_time",
    "segment",
    "api",
    "enters",
    "leaves",
    "trait",
)
ENGAGED: tuple[str, ...] = ("journey", "any")  # whose messages an opened/clicked split counts
TRAIT_EVENTS = frozenset({"identify", "Push Permission Changed", "Unsubscribed"})
JOURNEY_KEYS = frozenset(
    [
        "name",
        "description",
        "entry",
        "audience",
        "goal",
        "exit",
        "exit_on_goal",
        "exit_on_opt_out",
        "reentry_hours",
        "start",
        "steps",
        "channels",
        "channel_policy",
        "caps",
        "quiet_hours",
        "expires_hours",
        "programme_caps",
        "rate_limit",
        "remark",
        "source",
    ]
)
STEP_KEYS: dict[str, frozenset[str]] = {
    "message": frozenset(
        [
            "channels",
            "channel_policy",
            "message",
            "send_time",
            "caps",
            "quiet_hours",
            "expires_hours",
        ]
    ),
    "wait": frozenset(
        ["minutes", "hours", "until_local", "event", "timeout_hours", "timeout_next"]
    ),
    "split": frozenset(
        [
            "on",
            "event",
            "trait",
            "value",
            "segment",
            "messages",
            "percent",
            "yes",
            "no",
            "cases",
            "default",
        ]
    ),
    "experiment": frozenset(["paths"]),
    "exit": frozenset(["reason"]),
}
COMMON_STEP_KEYS = frozenset(["id", "kind", "next", "remark", "source"])
# What the person did since entering, as the events the closed loop sends back.
OPENED: tuple[str, ...] = tuple(OPENED_BY_CHANNEL.values())  # sim.trace's vocabulary
CLICKED: tuple[str, ...] = (
    "Push Notification Tapped",
    "Email Link Clicked",
    "In-App Message Clicked",
    "SMS Link Clicked",
)
ORDERED: tuple[str, ...] = ("Order Completed",)
API_ENTRY = "Journey Triggered"  # with properties.journey = the journey's name
OPT_OUT = "opt_out"  # the profile card files unsubscribes and revoked push under this name


@dataclass(frozen=True)
class Arm:
    """One arm of an experiment step."""

    name: str
    share: float
    next: str
    control: bool = False


@dataclass(frozen=True)
class Step:
    """One square of the board. ``next`` is where it goes (``""``: the end)."""

    id: str
    kind: str
    next: str = ""
    campaign: str = ""  # message: the campaign name ``journey/step``
    delay: float = 0.0  # wait: seconds
    until_local: int | None = None  # wait: local minute of day
    event: str = ""  # wait until / split on this event
    timeout: float = 0.0  # wait for an event: seconds
    timeout_next: str = ""
    on: str = ""  # split: one of SPLITS
    trait: str = ""
    value: Any = None
    percent: float = 0.0
    yes: str = ""
    no: str = ""
    cases: dict[str, str] = field(default_factory=dict)
    default: str = ""
    paths: tuple[Arm, ...] = ()
    reason: str = "end"
    rule: Rule | None = None  # split on a segment
    messages: str = "journey"  # opened/clicked: "journey", "any", or a message step's id

    def targets(self) -> list[tuple[str, str]]:
        """(label, step id) of every way out of this step."""
        if self.kind == "split":
            if self.on == "last_device":
                return [*self.cases.items(), ("default", self.default)]
            return [("yes", self.yes), ("no", self.no)]
        if self.kind == "experiment":
            return [(p.name, p.next) for p in self.paths]
        if self.kind == "wait" and self.event:
            return [("event", self.next), ("timeout", self.timeout_next)]
        if self.kind == "exit":
            return []
        return [("next", self.next)]


@dataclass(frozen=True)
class Entry:
    """How a profile enters: an event, a moment, a local time of day, matching the audience,
    entering or leaving a segment, or a trait changing to a value."""

    kind: str  # event | at | local_time | segment | enters | leaves | trait
    event: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    local_minute: int = 0
    days: tuple[int, ...] = tuple(range(7))
    rule: Rule | None = None  # enters | leaves
    trait: str = ""  # trait: which, and the change
    to: Any = None
    source: Any = None  # the value it changed from (unless ``any_source``: any other value)
    any_source: bool = True

    def reads(self) -> frozenset[str]:
        """Event names whose arrival may change the segment or the trait (checked at once)."""
        if self.kind in ("enters", "leaves") and self.rule is not None:
            return events_read(self.rule) | TRAIT_EVENTS
        if self.kind == "trait":
            return TRAIT_EVENTS
        return frozenset()


@dataclass(frozen=True)
class Journey:
    name: str
    entry: Entry
    audience: Audience
    goal: Goal | None
    exit: tuple[str, ...]
    exit_on_goal: bool
    exit_on_opt_out: bool
    reentry: float | None
    start: str
    steps: dict[str, Step]
    campaigns: tuple[Campaign, ...]  # one per message step
    programme_caps: tuple[ProgrammeCap, ...] | None = None  # None: the house caps apply
    per_minute: int = 0  # a broadcast's admission rate (0: everyone at the moment)

    def watched(self) -> frozenset[str]:
        """Event names whose last time the walker reads."""
        names = set(self.exit) | {OPT_OUT}
        if self.goal is not None:
            names.add(self.goal.event)
        for step in self.steps.values():
            if step.event:
                names.add(step.event)
            if step.on == "opened" and step.messages == "any":
                names.update(OPENED)
            elif step.on == "clicked" and step.messages == "any":
                names.update(CLICKED)
            elif step.on == "ordered":
                names.update(ORDERED)
        return frozenset(names)

    def reactive(self) -> frozenset[str]:
        """Event names the walker acts on when they arrive."""
        names = set(self.exit)
        if self.entry.kind == "event":
            names.add(self.entry.event)
        if self.goal is not None:
            names.add(self.goal.event)
        names.update(s.event for s in self.steps.values() if s.kind == "wait" and s.event)
        names.update(self.entry.reads())
        for step in self.steps.values():  # engagement with the journey's own messages
            if step.on in ("opened", "clicked") and step.messages != "any":
                names.update(OPENED if step.on == "opened" else CLICKED)
        return frozenset(names)

    def rules(self) -> list[Rule]:
        """Every audience rule the journey evaluates (audience, entry, segment splits)."""
        found = [self.audience.rule, self.entry.rule, *(s.rule for s in self.steps.values())]
        return [r for r in found if r is not None]


def _entry(check: _Check, raw: dict[str, Any], name: str, segments: Mapping[str, Rule]) -> Entry:
    table = check.table(raw, "entry")
    kinds = [k for k in ENTRIES if k in table]
    if len(kinds) != 1:
        check.fail("entry", f"exactly one of {', '.join(ENTRIES)}", table or None)
        return Entry("segment")
    if kinds[0] in ("enters", "leaves"):  # a segment change: a name or a rule
        rule = parse_rule(check, table[kinds[0]], f"entry.{kinds[0]}", TRAITS, segments)
        return Entry(kinds[0], rule=rule)
    if kinds[0] == "trait":
        return _trait_entry(check, table)
    if "api" in kinds:  # a track event anyone may post: "Journey Triggered" {journey: name}
        if table["api"] is not True:
            check.fail(
                "entry.api", "true (enter on a posted Journey Triggered event)", table["api"]
            )
        return Entry("event", API_ENTRY, {"journey": name})
    if "event" in kinds:
        props = table.get("properties", {})
        if not isinstance(props, dict):
            check.fail("entry.properties", "a table of property = value", props)
            props = {}
        return Entry("event", check.event(table["event"], "entry.event"), props)
    if "at" in kinds:
        return Entry("at", at=_moment(check, table["at"]))
    if "local_time" in kinds:
        chosen = check.names(table.get("days", list(WEEKDAYS)), "entry.days", WEEKDAYS)
        return Entry(
            "local_time",
            local_minute=check.clock(table["local_time"], "entry.local_time"),
            days=tuple(WEEKDAYS.index(d) for d in chosen),
        )
    if table["segment"] is not True:
        check.fail(
            "entry.segment", "true (enter on coming to match the audience)", table["segment"]
        )
    return Entry("segment")


def _trait_entry(check: _Check, table: dict[str, Any]) -> Entry:
    """``{ trait = "push", to = true, from = false }``: the trait changed to ``to``."""
    for key in table:
        if key not in ("trait", "to", "from"):
            check.fail(f"entry.{key}", "one of trait, to, from", key)
    trait = table["trait"]
    if trait not in TRAITS:
        check.fail("entry.trait", f"a known trait from {sorted(TRAITS)}", trait)
    if "to" not in table:
        check.fail("entry.to", "the value the trait changes to", None)
    return Entry(
        "trait",
        trait=str(trait),
        to=table.get("to"),
        source=table.get("from"),
        any_source="from" not in table,
    )


def _text(check: _Check, table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        check.fail(f"{where}.{key}", "a step id", value)
        return ""
    return value


def _wait(check: _Check, item: dict[str, Any], key: str, base: Step) -> Step:
    modes = [m for m in ("minutes", "hours", "until_local", "event") if m in item]
    if len(modes) != 1:
        check.fail(key, "exactly one of minutes, hours, until_local, event", sorted(item))
        return base
    mode = modes[0]
    if mode in ("minutes", "hours"):
        scale = 60.0 if mode == "minutes" else 3600.0
        return replace(base, delay=check.number(item, mode, 0.0, 0.0, f"{key}.") * scale)
    if mode == "until_local":
        return replace(base, until_local=check.clock(item["until_local"], f"{key}.until_local"))
    return replace(
        base,
        event=check.event(item["event"], f"{key}.event"),
        timeout=check.number(item, "timeout_hours", 0.01, 24.0, f"{key}.") * 3600.0,
        timeout_next=_text(check, item, "timeout_next", key),
    )


def _split(
    check: _Check, item: dict[str, Any], key: str, base: Step, segments: Mapping[str, Rule]
) -> Step:
    on = item.get("on")
    if on not in SPLITS:
        check.fail(f"{key}.on", f"one of {list(SPLITS)}", on)
        return base
    step = replace(base, on=str(on), yes=_text(check, item, "yes", key))
    step = replace(step, no=_text(check, item, "no", key))
    if "messages" in item:
        messages = item["messages"]
        if on not in ("opened", "clicked") or not isinstance(messages, str) or not messages:
            check.fail(
                f"{key}.messages",
                f"on an opened or clicked split, one of {list(ENGAGED)} or a message step id",
                messages,
            )
        else:
            step = replace(step, messages=messages)
    if on == "segment":
        if "segment" not in item:
            check.fail(f"{key}.segment", "a segment name or a rule { all | any | none = [...] }")
        rule = parse_rule(check, item.get("segment"), f"{key}.segment", TRAITS, segments)
        step = replace(step, rule=rule)
    elif on == "event":
        step = replace(step, event=check.event(item.get("event"), f"{key}.event"))
    elif on == "trait":
        trait = item.get("trait")
        if trait not in TRAITS:
            check.fail(f"{key}.trait", f"a known trait from {sorted(TRAITS)}", trait)
        step = replace(step, trait=str(trait), value=item.get("value", True))
    elif on == "random":
        percent = check.number(item, "percent", 0.0, -1.0, f"{key}.")
        if not 0.0 < percent < 100.0:
            check.fail(f"{key}.percent", "a share of people in (0, 100) sent to yes", percent)
        step = replace(step, percent=percent)
    elif on == "last_device":
        cases = check.table(item, "cases")
        for kind, target in cases.items():
            if kind not in ("phone", "tablet", "laptop", "watch", "car", "tv", "speaker"):
                check.fail(f"{key}.cases.{kind}", "a device type", kind)
            if not isinstance(target, str):
                check.fail(f"{key}.cases.{kind}", "a step id", target)
        return replace(
            step,
            cases={k: str(v) for k, v in cases.items()},
            default=_text(check, item, "default", key),
            yes="",
            no="",
        )
    return step


def _experiment(check: _Check, item: dict[str, Any], key: str, base: Step) -> Step:
    items = item.get("paths")
    if not isinstance(items, list) or len(items) < 2:
        check.fail(f"{key}.paths", "an array of at least two { name, share, next } tables", items)
        return base
    paths = []
    for i, raw in enumerate(items):
        raw = raw if isinstance(raw, dict) else {}
        where = f"{key}.paths[{i}]"
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            check.fail(f"{where}.name", "a path name", name)
            name = f"p{i}"
        share = check.number(raw, "share", 0.0, 0.0, f"{where}.")
        paths.append(Arm(name, share, _text(check, raw, "next", where), bool(raw.get("control"))))
    total = sum(p.share for p in paths)
    if abs(total - 100.0) > 1e-6:
        check.fail(f"{key}.paths", "shares that sum to 100", total)
    if len({p.name for p in paths}) != len(paths):
        check.fail(f"{key}.paths", "unique path names", [p.name for p in paths])
    return replace(base, paths=tuple(paths))


def _message_campaign(
    check: _Check, item: dict[str, Any], key: str, journey: dict[str, Any], name: str
) -> Campaign:
    """A message step as a campaign ``journey/step``: the journey's defaults, the step's own."""
    inherited = ("channels", "channel_policy", "caps", "quiet_hours", "expires_hours")
    merged: dict[str, Any] = {k: journey[k] for k in inherited if k in journey}
    merged |= {k: v for k, v in item.items() if k in STEP_KEYS["message"]}
    sub = _Check(check.where, f"{check.label}.{key}", check.problems)
    channels = sub.names(merged.get("channels", ["push", "email"]), "channels", CHANNELS)
    policy = merged.get("channel_policy", "best_engaged")
    if policy not in POLICIES:
        sub.fail("channel_policy", f"one of {list(POLICIES)}", policy)
    send_time = merged.get("send_time", "immediate")
    if send_time not in SEND_TIMES:
        sub.fail("send_time", f"one of {list(SEND_TIMES)}", send_time)
    expires = sub.number(merged, "expires_hours", 0.1, 24.0)
    return Campaign(
        name=name,
        trigger=Trigger("journey"),
        audience=Audience(),
        goal=None,
        channels=channels,
        policy=str(policy),
        message=_message(sub, sub.table(merged, "message"), "message", None),
        variants=(Variant("default", 100.0, send_time=str(send_time)),),
        caps=_caps(sub, merged),
        quiet=_quiet(sub, merged),
        exit=(),
        expires=expires * 3600.0,
        reentry=0.0,
    )


def _steps(
    check: _Check, raw: dict[str, Any], journey_name: str, segments: Mapping[str, Rule]
) -> tuple[dict[str, Step], list[Campaign], list[str]]:
    items = raw.get("steps")
    if not isinstance(items, list) or not items:
        check.fail("steps", "a non-empty array of tables [[journeys.steps]]", items)
        return {}, [], []
    steps: dict[str, Step] = {}
    order: list[str] = []
    campaigns = []
    for i, item in enumerate(items):
        item = item if isinstance(item, dict) else {}
        sid = item.get("id")
        key = f"steps[{i}]" + (f" ({sid})" if isinstance(sid, str) else "")
        if not isinstance(sid, str) or not sid or "/" in sid:
            check.fail(f"{key}.id", "a step id (no '/')", sid)
            continue
        if sid in steps:
            check.fail(f"{key}.id", "a step id used once", sid)
            continue
        kind = item.get("kind")
        if kind not in KINDS:
            check.fail(f"{key}.kind", f"one of {list(KINDS)}", kind)
            continue
        for name in item:
            if name not in COMMON_STEP_KEYS | STEP_KEYS[kind]:
                check.fail(f"{key}.{name}", f"a key of a {kind} step", name)
        step = Step(sid, str(kind), next=_text(check, item, "next", key))
        if kind == "message":
            campaign = _message_campaign(check, item, key, raw, f"{journey_name}/{sid}")
            campaigns.append(campaign)
            step = replace(step, campaign=campaign.name)
        elif kind == "wait":
            step = _wait(check, item, key, step)
        elif kind == "split":
            step = _split(check, item, key, step, segments)
        elif kind == "experiment":
            step = _experiment(check, item, key, step)
        else:
            step = replace(step, reason=str(item.get("reason", "end")))
        steps[sid] = step
        order.append(sid)
    return steps, campaigns, order


def _graph(check: _Check, steps: dict[str, Step], start: str, order: list[str]) -> None:
    """Branches to missing ids, steps nobody reaches, loops that never wait."""
    for sid in order:
        for label, target in steps[sid].targets():
            if target and target not in steps:
                check.fail(f"steps ({sid}).{label}", "the id of a step in this journey", target)
        messages = steps[sid].messages
        if messages not in ENGAGED and getattr(steps.get(messages), "kind", "") != "message":
            check.fail(
                f"steps ({sid}).messages", f"one of {list(ENGAGED)} or a message step id", messages
            )
    if start not in steps:
        return
    seen, todo = {start}, [start]
    while todo:
        for _, target in steps[todo.pop()].targets():
            if target in steps and target not in seen:
                seen.add(target)
                todo.append(target)
    for sid in order:
        if sid not in seen:
            check.say(f"steps ({sid})", f"unreachable from the start step {start!r}")
    instant = {sid for sid in order if steps[sid].kind != "wait"}
    for sid in order:
        cycle = _instant_cycle(steps, instant, sid)
        if cycle and min(cycle) == sid:
            check.say(
                f"steps ({sid})",
                f"a loop without a wait ({' -> '.join([*cycle, cycle[0]])}); put a wait step in it",
            )


def _instant_cycle(steps: dict[str, Step], instant: set[str], origin: str) -> list[str]:
    """A path of steps without a wait from ``origin`` back to itself, or ``[]``."""
    if origin not in instant:
        return []
    stack: list[tuple[str, list[str]]] = [(origin, [origin])]
    visited: set[str] = set()
    while stack:
        sid, path = stack.pop()
        for _, target in steps[sid].targets():
            if target == origin:
                return path
            if target in instant and target not in visited:
                visited.add(target)
                stack.append((target, [*path, target]))
    return []


def _programme_caps(check: _Check, raw: dict[str, Any]) -> tuple[ProgrammeCap, ...] | None:
    """``"exempt"`` (no house caps), an array of caps replacing them, or absent (``None``)."""
    if "programme_caps" not in raw:
        return None
    value = raw["programme_caps"]
    if value == "exempt":
        return ()
    if not isinstance(value, list):
        check.fail("programme_caps", '"exempt" or an array of caps like [programme].caps', value)
        return None
    return parse_caps(check, value, "programme_caps")


def _rate_limit(check: _Check, raw: dict[str, Any], entry: Entry) -> int:
    """``rate_limit = { per_minute = N }`` on a broadcast (``entry.at``): N people a minute."""
    if "rate_limit" not in raw:
        return 0
    table = check.table(raw, "rate_limit")
    for key in table:
        if key != "per_minute":
            check.fail(f"rate_limit.{key}", "per_minute", key)
    value = table.get("per_minute")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        check.fail("rate_limit.per_minute", "a whole number of people a minute >= 1", value)
        return 0
    if entry.kind != "at":
        check.fail("rate_limit", "a broadcast journey (entry.at) to pace", entry.kind)
        return 0
    return value


def parse_journey(
    raw: object,
    index: int,
    where: str,
    problems: list[str],
    segments: Mapping[str, Rule] | None = None,
) -> Journey | None:
    """One ``[[journeys]]`` table; problems are appended, not raised."""
    opened = open_item(raw, "journeys", index, where, problems)
    if opened is None:
        return None
    check, raw = opened
    name = raw.get("name")
    if not isinstance(name, str) or not name or "/" in name:
        check.fail("name", "a journey name (no '/')", name)
        name = f"journey{index}"
    check.unknown_keys(raw, JOURNEY_KEYS)
    segments = segments or {}
    steps, campaigns, order = _steps(check, raw, name, segments)
    start = raw.get("start", order[0] if order else "")
    if not isinstance(start, str) or (order and start not in steps):
        check.fail("start", "the id of a step in this journey", start)
        start = order[0] if order else ""
    _graph(check, steps, start, order)
    entry = _entry(check, raw, name, segments)
    return Journey(
        name=name,
        entry=entry,
        audience=_audience(check, raw, segments),
        goal=_goal(check, raw),
        exit=check.exits(raw),
        exit_on_goal=bool(raw.get("exit_on_goal", True)),
        exit_on_opt_out=bool(raw.get("exit_on_opt_out", True)),
        reentry=check.reentry(raw),
        start=start,
        steps=steps,
        campaigns=tuple(campaigns),
        programme_caps=_programme_caps(check, raw),
        per_minute=_rate_limit(check, raw, entry),
    )


def parse_journeys(
    items: list[Any],
    where: str,
    campaign_names: set[str],
    segments: Mapping[str, Rule] | None = None,
) -> list[Journey]:
    """Every journey, or a :class:`ConfigError` listing every problem in every one."""
    problems: list[str] = []
    out = [parse_journey(raw, i, where, problems, segments) for i, raw in enumerate(items)]
    problems += repeated_names([j.name for j in out if j is not None], where, "journeys")
    for journey in (j for j in out if j is not None):
        for campaign in journey.campaigns:
            if campaign.name in campaign_names:
                problems.append(
                    f"{where}: journeys ({journey.name}): message step {campaign.name!r} has the"
                    " name of a campaign; rename the journey or the campaign"
                )
    if problems:
        raise ConfigError(problems)
    return [j for j in out if j is not None]
