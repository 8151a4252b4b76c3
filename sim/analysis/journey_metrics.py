"""The strategist's journey metrics, read off a run's tables the way an analytics tool would.

A strategist watching a customer journey (shared seeds 003 and 004) asks
Google Analytics or Adobe the same few questions: how many sessions, how many
bounced after one screen, where sessions end, how long they last, how many
screens they see, how many people came back, who stopped coming, and, for
each channel side by side, how many messages were delivered, opened and
clicked, what that cost and what it bought. This module answers them from
what a run writes (``trace.jsonl.gz`` read once through
:mod:`sim.trace.reader`, the truth through :mod:`sim.trace.truth`,
``profiles.jsonl`` and ``messages.jsonl``), never from the world's insides,
so the same numbers come out of any trace of the same shape. Every
definition, with its GA/Adobe source, is in ``docs/metrics.md``.

The picture: Kaylee opens the shop app on her phone (a session starts at
``Application Opened``), looks at two screens and a product, and puts the
phone away (``Application Backgrounded``): one session, three views, exit on
the product page, two minutes. In the evening a push arrives (delivered),
she taps it (opened), the deep link opens the app (``Campaign Landing``: a
click, and that session's channel is push) and she orders (a conversion
credited to push).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.analysis.metrics_config import MetricsConfig
from sim.trace.clock import DAY, epoch_seconds, iso_ms
from sim.trace.events import SegmentEvent
from sim.trace.reader import read_events, read_jsonl, read_optional_jsonl
from sim.trace.truth import Owners, owners_of
from sim.trace.vocabulary import (
    ACTED_ON,
    CAMPAIGN_LANDING,
    EMAIL_CLICKED,
    PUSH_PERMISSION,
    UNSUBSCRIBED,
)

# The two ways the world begins a session (sim/world/sessions.py, ``open_app``): an app
# comes to the foreground, or a browser loads the shop's landing page.
APP_STARTS = frozenset({"Application Opened", "Application Installed"})
SESSION_END = "Application Backgrounded"
LANDING_PATH = "/"
# Segment e-commerce events are sent from the page they name: each is a view of that page.
VIEW_TRACKS: dict[str, str] = {
    "Products Searched": "Search Results",
    "Product Viewed": "Product",
    "Cart Viewed": "Cart",
    "Checkout Started": "Checkout",
    "Order Completed": "Order Confirmation",
}
ORDER = "Order Completed"
OPENS = frozenset(name for name in ACTED_ON if name != EMAIL_CLICKED)
HOUSEKEEPING = frozenset({"Context Changed"})
STAGES: tuple[str, ...] = (
    "unaware",
    "awareness",
    "consideration",
    "purchase",
    "retention",
    "advocacy",
)
STAGE_OF_EVENT: dict[str, str] = {
    "Product Viewed": "awareness",
    "Product Added": "consideration",
    "Product Reviewed": "advocacy",
    "Product Shared": "advocacy",
}
ATTRIBUTION_WINDOW = 7 * DAY  # the report's channel attribution looks back 7 days too
DIRECT = "direct"
UNATTRIBUTED = "unattributed"
TOP_EXITS = 10


def opened_channel(name: object, properties: Mapping[str, Any]) -> str | None:
    """The channel of a message a person opened (a tap, an email open), else None.

    The event's own ``channel`` property, else the channel its name says. A
    later ``Campaign Landing`` (the deep link opened) is the click of the
    person's latest opened message: here and in ``hopsim compare``.
    """
    if name not in OPENS:
        return None
    return str(properties.get("channel") or ACTED_ON[str(name)])


def is_opt_out(name: object, properties: Mapping[str, Any]) -> bool:
    """An unsubscribe, or push permission taken back."""
    return name == UNSUBSCRIBED or (name == PUSH_PERMISSION and not properties.get("granted"))


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(slots=True)
class SessionTally:
    """Sessions of one cut (a device type, a channel, a stage): the GA session report's row."""

    sessions: int = 0
    with_views: int = 0
    bounces: int = 0
    views: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, views: int, seconds: float) -> None:
        self.sessions += 1
        self.views += views
        self.seconds.append(seconds)
        if views:
            self.with_views += 1
            self.bounces += views == 1

    def merge(self, other: SessionTally) -> None:
        self.sessions += other.sessions
        self.with_views += other.with_views
        self.bounces += other.bounces
        self.views += other.views
        self.seconds += other.seconds

    def as_json(self) -> dict[str, Any]:
        seconds = self.seconds
        return {
            "sessions": self.sessions,
            "sessions_with_views": self.with_views,
            "bounces": self.bounces,
            "bounce_rate": _rate(self.bounces, self.with_views),
            "views": self.views,
            "views_per_session": _rate(self.views, self.sessions),
            "time_per_session_s": round(statistics.fmean(seconds), 1) if seconds else None,
            "time_per_session_median_s": round(statistics.median(seconds), 1) if seconds else None,
        }


@dataclass(slots=True)
class MessageTally:
    """Messages of one cut: delivered (impressions), opened, clicked, what they bought."""

    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    conversions: int = 0
    opt_outs: int = 0

    def merge(self, other: MessageTally) -> None:
        self.delivered += other.delivered
        self.opened += other.opened
        self.clicked += other.clicked
        self.conversions += other.conversions
        self.opt_outs += other.opt_outs

    def as_json(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "opened": self.opened,
            "clicked": self.clicked,
            "conversions": self.conversions,
            "opt_outs": self.opt_outs,
            "open_rate": _rate(self.opened, self.delivered),
            "ctr": _rate(self.clicked, self.delivered),
        }


@dataclass(slots=True)
class Session:
    """One open session on one device."""

    device_type: str
    person: str
    stage: str
    start: float
    last: str  # the latest event's timestamp, parsed when the session closes
    views: int = 0
    exit_view: str = ""
    channel: str = DIRECT
    ended: bool = False


@dataclass(slots=True)
class Click:
    channel: str
    device_type: str
    stage: str
    at: float


@dataclass
class JourneyTally:
    """What a stretch of trace taught the metrics, kept as sums that add up across stretches.

    Every figure of the block is a count, a sum, a set or a list of session
    lengths (whose mean and median do not depend on their order), and every
    state the reading keeps (open sessions, a person's stage, their latest
    opened message) belongs to one device or one person. A run's households
    never span two shards, so each shard reads its own people's events (its
    part of the trace, in trace order) into a tally, and the run adds the
    tallies up (:meth:`add`): the same block as reading the whole trace at once.
    The visitors' profiles wait for stitching: a tally keeps the devices that
    opened sessions each day, and :func:`journey_block` names their profiles.
    """

    by_device: defaultdict[str, SessionTally] = field(
        default_factory=lambda: defaultdict(SessionTally)
    )
    by_channel: defaultdict[str, SessionTally] = field(
        default_factory=lambda: defaultdict(SessionTally)
    )
    by_stage: defaultdict[str, SessionTally] = field(
        default_factory=lambda: defaultdict(SessionTally)
    )
    messages: defaultdict[tuple[str, str, str], MessageTally] = field(
        default_factory=lambda: defaultdict(MessageTally)
    )
    exits: Counter[str] = field(default_factory=Counter)
    views: Counter[str] = field(default_factory=Counter)
    persons: defaultdict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Day -> the true persons who opened a session that day."""
    devices: defaultdict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Day -> the devices that opened a session that day (their profiles, once stitched)."""
    without_person: int = 0
    """Sessions on a shared device nobody signed in to (no true person)."""
    first_order: dict[str, float] = field(default_factory=dict)
    last_session: dict[str, float] = field(default_factory=dict)
    outside: int = 0

    def add(self, other: JourneyTally) -> None:
        """Add another stretch's tally (of other people) to this one."""
        for mine, theirs in (
            (self.by_device, other.by_device),
            (self.by_channel, other.by_channel),
            (self.by_stage, other.by_stage),
        ):
            for name, tally in theirs.items():
                mine[name].merge(tally)
        for key, message in other.messages.items():
            self.messages[key].merge(message)
        self.exits.update(other.exits)
        self.views.update(other.views)
        for day, persons in other.persons.items():
            self.persons[day] |= persons
        for day, devices in other.devices.items():
            self.devices[day] |= devices
        self.without_person += other.without_person
        # a person's whole life is in one shard (households are never split): a key in two
        # tallies would make the sum depend on the order the shards are added in
        overlap = (self.first_order.keys() & other.first_order.keys()) | (
            self.last_session.keys() & other.last_session.keys()
        )
        if overlap:
            raise ValueError(f"journey tallies of two shards share persons: {sorted(overlap)[:3]}")
        self.first_order.update(other.first_order)
        self.last_session.update(other.last_session)
        self.outside += other.outside


class JourneyMetrics:
    """Reads a trace event by event (in trace order) and the sent messages beside it, into a
    :class:`JourneyTally` (:meth:`finish`); :func:`journey_block` turns tallies into the block."""

    def __init__(self, owners: Owners, start: float) -> None:
        self.owners = owners
        self.start = start
        self.tally = tally = JourneyTally()
        # The tally's tables, bound once: the per-event path reads them on every call.
        self.by_device, self.by_channel, self.by_stage = (
            tally.by_device,
            tally.by_channel,
            tally.by_stage,
        )
        self.messages, self.exits, self.views = tally.messages, tally.exits, tally.views
        self.first_order, self.last_session = tally.first_order, tally.last_session
        self.open: dict[str, Session] = {}
        self.stage: dict[str, int] = {}
        self.last_order_day: dict[str, int] = {}
        self.last_open: dict[str, tuple[str, str, str]] = {}  # person -> campaign, channel, device
        self.last_click: dict[str, Click] = {}
        self.pending: list[tuple[str, str, str, str]] = []  # sent messages not yet passed
        self.next_pending = 0
        self.minutes: dict[str, float] = {}

    # ---- who -------------------------------------------------------------------------------

    def person(self, device_id: str, user_id: object) -> str:
        """The true person; on a shared device nobody signed in to, its household."""
        found = self.owners.person(device_id, user_id)
        if found is not None:
            return found
        return self.owners.owner(device_id) or f"device:{device_id}"

    def stage_of(self, person: str) -> str:
        return STAGES[self.stage.get(person, 0)]

    def reach(self, person: str, stage: str) -> None:
        index = STAGES.index(stage)
        if index > self.stage.get(person, 0):
            self.stage[person] = index

    # ---- messages --------------------------------------------------------------------------

    def sent(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """The engine's sent messages (``messages.jsonl`` rows), in file order (by time)."""
        for row in rows:
            if row.get("decision") != "sent":
                continue
            device_id = str(row.get("device_id") or "")
            channel = str(row.get("channel") or "")
            device_type = str(row.get("device_type") or "")
            at = iso_ms(datetime.fromtimestamp(epoch_seconds(str(row["at"])), UTC))
            self.pending.append((at, device_id, channel, device_type))
        self.pending.sort(key=lambda item: item[0])

    def _deliver_until(self, t: str) -> None:
        pending = self.pending
        while self.next_pending < len(pending) and pending[self.next_pending][0] <= t:
            _, device_id, channel, device_type = pending[self.next_pending]
            stage = self.stage_of(self.person(device_id, None))
            self.messages[(channel, device_type, stage)].delivered += 1
            self.next_pending += 1

    # ---- events ----------------------------------------------------------------------------

    def consume(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Every event of a trace, in trace order.

        NOTE: speed: a view inside an open session (most of a trace) is handled right
        here, with its timestamp kept as text until the session closes; everything
        else goes through :meth:`observe`. ``test_consume_equals_observe`` holds them equal.
        """
        sessions, views, pending = self.open, self.views, self.pending
        landing = CAMPAIGN_LANDING
        for event in events:
            stamp = event["timestamp"]
            if self.next_pending < len(pending) and pending[self.next_pending][0] <= stamp:
                self._deliver_until(stamp)
            kind = event["type"]
            properties = event.get("properties") or {}
            if kind == "screen" or (kind == "page" and "url" not in properties):
                session = sessions.get(event["context"]["device"]["id"])
                name: str = event.get("name", "")
                if session is not None and not session.ended and name != landing:
                    session.last = stamp
                    session.views += 1
                    session.exit_view = name
                    views[name] += 1
                    continue
            self.observe(event)

    def observe(self, event: Mapping[str, Any]) -> None:
        """One trace event, in trace order."""
        stamp = event["timestamp"]
        if self.next_pending < len(self.pending) and self.pending[self.next_pending][0] <= stamp:
            self._deliver_until(stamp)
        t = self.seconds(stamp)
        device = event["context"]["device"]
        device_id = device["id"]
        kind = event["type"]
        name = event.get("event") if kind == "track" else event.get("name")
        properties = event.get("properties") or {}
        if kind == "track" and ("campaign" in properties or name in HOUSEKEEPING):
            self._message_event(name, properties, device_id, device["type"], event, t)
            return
        if self._starts(kind, name, properties):
            self._start(device_id, device["type"], event.get("userId"), t, stamp)
        session = self.open.get(device_id)
        if session is None or session.ended:
            self.tally.outside += 1
            return
        session.last = stamp
        if kind in ("screen", "page"):
            self._view(session, str(name), properties, t)
        elif kind == "track":
            self._track(session, str(name), t)

    def seconds(self, stamp: str) -> float:
        """POSIX seconds of a trace timestamp, as :func:`sim.trace.clock.epoch_seconds`.

        NOTE: speed: the minute is parsed once and cached; the seconds are added as a float.
        """
        minute = self.minutes.get(stamp[:16])
        if minute is None or stamp[-1] != "Z" or len(stamp) != 24:
            if len(stamp) != 24 or stamp[-1] != "Z":
                return epoch_seconds(stamp)
            minute = self.minutes[stamp[:16]] = epoch_seconds(stamp[:16] + ":00Z")
        return minute + float(stamp[17:23])

    @staticmethod
    def _starts(kind: str, name: Any, properties: Mapping[str, Any]) -> bool:
        if kind == "track":
            return name in APP_STARTS
        return kind == "page" and properties.get("path") == LANDING_PATH and "url" in properties

    def _start(
        self, device_id: str, device_type: str, user_id: object, t: float, stamp: str
    ) -> None:
        current = self.open.get(device_id)
        if current is not None and not current.ended and current.views == 0 and current.start == t:
            return  # Application Installed, then Opened at the same moment: one session
        self._close(device_id)
        person = self.person(device_id, user_id)
        day = int((t - self.start) // DAY)
        if person in self.last_order_day and day > self.last_order_day[person]:
            self.reach(person, "retention")
        self.open[device_id] = Session(device_type, person, self.stage_of(person), t, stamp)
        true = self.owners.person(device_id, user_id)  # None: a shared device, nobody signed in
        self.tally.devices[day].add(device_id)
        if true is None:
            self.tally.without_person += 1
        else:
            self.tally.persons[day].add(true)
        self.last_session[person] = t

    def _close(self, device_id: str) -> None:
        session = self.open.pop(device_id, None)
        if session is None:
            return
        seconds = self.seconds(session.last) - session.start
        for tally in (
            self.by_device[session.device_type],
            self.by_channel[session.channel],
            self.by_stage[session.stage],
        ):
            tally.add(session.views, seconds)
        if session.exit_view:
            self.exits[session.exit_view] += 1

    def _view(self, session: Session, name: str, properties: Mapping[str, Any], t: float) -> None:
        session.views += 1
        session.exit_view = name
        self.views[name] += 1
        if name == CAMPAIGN_LANDING:
            session.channel = self._click(session.person, properties, t)

    def _track(self, session: Session, name: str, t: float) -> None:
        if name == SESSION_END:
            session.ended = True
            return
        page = VIEW_TRACKS.get(name)
        if page is not None:
            session.views += 1
            session.exit_view = page
            self.views[page] += 1
        stage = STAGE_OF_EVENT.get(name)
        if stage is not None:
            self.reach(session.person, stage)
        if name == ORDER:
            self._order(session.person, t)

    def _order(self, person: str, t: float) -> None:
        day = int((t - self.start) // DAY)
        previous = self.last_order_day.get(person)
        self.reach(person, "retention" if previous is not None and day > previous else "purchase")
        self.last_order_day[person] = day
        self.first_order.setdefault(person, t)
        click = self.last_click.get(person)
        if click is not None and 0 <= t - click.at <= ATTRIBUTION_WINDOW:
            self.messages[(click.channel, click.device_type, click.stage)].conversions += 1

    def _message_event(
        self,
        name: Any,
        properties: Mapping[str, Any],
        device_id: str,
        device_type: str,
        event: Mapping[str, Any],
        t: float,
    ) -> None:
        """A device's message events: an open, an opt-out; arrivals are counted from the log."""
        channel = opened_channel(name, properties)
        if channel is not None:
            person = self.person(device_id, event.get("userId"))
            campaign = str(properties.get("campaign", ""))
            self.messages[(channel, device_type, self.stage_of(person))].opened += 1
            self.last_open[person] = (campaign, channel, device_type)
        elif is_opt_out(name, properties):
            person = self.person(device_id, event.get("userId"))
            channel = str(
                properties.get("channel") or ("watch" if device_type == "watch" else "push")
            )
            self.messages[(channel, device_type, self.stage_of(person))].opt_outs += 1

    def _click(self, person: str, properties: Mapping[str, Any], t: float) -> str:
        """A deep link opened: the click of the person's latest opened message."""
        opened = self.last_open.get(person)
        stage = self.stage_of(person)
        if opened is None:
            self.messages[(UNATTRIBUTED, "", stage)].clicked += 1
            return UNATTRIBUTED
        _, channel, device_type = opened
        self.messages[(channel, device_type, stage)].clicked += 1
        self.last_click[person] = Click(channel, device_type, stage, t)
        return channel

    # ---- the tally -------------------------------------------------------------------------

    def finish(self) -> JourneyTally:
        """The tally of everything read: open sessions closed, every sent message delivered."""
        for device_id in list(self.open):
            self._close(device_id)
        self._deliver_until("\U0010ffff")
        return self.tally


def journey_block(
    tallies: Iterable[JourneyTally],
    profiles: Iterable[Mapping[str, Any]],
    start: float,
    days: int,
    config: MetricsConfig,
) -> dict[str, Any]:
    """The ``journey_metrics`` block of ``summary.json`` from the tallies of a whole trace.

    ``profiles`` (``profiles.jsonl`` rows) name the stitched profile of each
    device that opened a session; a device on no profile is a visitor by itself.
    """
    total = JourneyTally()
    for tally in tallies:
        total.add(tally)
    visiting = set().union(*total.devices.values())
    return JourneyBlock(total, profile_index(profiles, visiting), start, days, config).as_json()


class JourneyBlock:
    """The block's figures, read off one tally of the whole trace."""

    def __init__(
        self,
        tally: JourneyTally,
        profile_of: Mapping[str, str],
        start: float,
        days: int,
        config: MetricsConfig,
    ) -> None:
        self.tally = tally
        self.messages = tally.messages
        self.profile_of = profile_of
        self.start = start
        self.days = days
        self.config = config

    def as_json(self) -> dict[str, Any]:
        tally = self.tally
        overall = SessionTally()
        for session in tally.by_device.values():
            overall.merge(session)
        return {
            "definitions": "docs/metrics.md",
            "overall": overall.as_json() | self._messages_json(lambda key: True),
            "by_device": self._cut(tally.by_device, 1),
            "by_channel": self._channels(),
            "by_stage": self._cut(tally.by_stage, 2, order=STAGES),
            "exit_pages": self.exit_pages(),
            "visitors": self.visitors(),
            "churn": self.churn(),
            "events_outside_sessions": tally.outside,
        }

    def _messages_json(self, keep: Any) -> dict[str, Any]:
        total = MessageTally()
        for key, tally in self.messages.items():
            if keep(key):
                total.delivered += tally.delivered
                total.opened += tally.opened
                total.clicked += tally.clicked
                total.conversions += tally.conversions
                total.opt_outs += tally.opt_outs
        return {"messages": total.as_json()}

    def _cut(
        self, sessions: Mapping[str, SessionTally], index: int, order: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        names = set(sessions) | {key[index] for key in self.messages if key[index]}
        ranked = [n for n in order if n in names] + sorted(names - set(order))
        return {
            name: sessions.get(name, SessionTally()).as_json()
            | self._messages_json(lambda key, name=name: key[index] == name)
            for name in ranked
        }

    def _channels(self) -> dict[str, Any]:
        out = self._cut(self.tally.by_channel, 0)
        for name, row in out.items():
            row["messages"] |= self._cost(name, row["messages"])
        return out

    def _cost(self, channel: str, messages: Mapping[str, int]) -> dict[str, Any]:
        """Spend, CPM, CPC and cost per conversion, only for a channel with a declared cost."""
        cost = self.config.costs.get(channel)
        if cost is None:
            return {}
        spend = cost.cost_per_message * messages["delivered"]

        def per(count: int, scale: float = 1.0) -> float | None:
            return round(spend * scale / count, 4) if count else None

        return {
            "cost": round(spend, 4),
            "currency": cost.currency,
            "cpm": per(messages["delivered"], 1000.0),
            "cpc": per(messages["clicked"]),
            "cost_per_conversion": per(messages["conversions"]),
            "cost_source": cost.source,
        }

    def exit_pages(self) -> list[dict[str, Any]]:
        views = self.tally.views
        ranked = sorted(self.tally.exits.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_EXITS]
        return [
            {
                "page": page,
                "exits": exits,
                "views": views[page],
                "exit_rate": _rate(exits, views[page]),
            }
            for page, exits in ranked
        ]

    def visitors(self) -> dict[str, Any]:
        """Unique, new and returning visitors per day and per week: true people beside profiles."""
        tally = self.tally
        profile_of = self.profile_of
        profiles = {
            day: {profile_of.get(device, f"device:{device}") for device in devices}
            for day, devices in tally.devices.items()
        }
        return {
            "daily": _periods(tally.persons, profiles, 1, self.days, self.start),
            "weekly": _periods(tally.persons, profiles, 7, self.days, self.start),
            "sessions_without_person": tally.without_person,
        }

    def churn(self) -> dict[str, Any]:
        """Customers (an order before the window) with no session in the last N days."""
        n = self.config.churn_days
        out: dict[str, Any] = {"days": n, "source": self.config.churn_source}
        if self.days <= n:
            reason = (
                f"the run lasts {self.days} days; a {n}-day churn window needs at least {n + 1}"
            )
            return out | {"customers": None, "churned": None, "rate": None, "reason": reason}
        window = self.start + (self.days - n) * DAY
        last_session = self.tally.last_session
        customers = [p for p, t in self.tally.first_order.items() if t < window]
        churned = sum(1 for p in customers if last_session.get(p, 0.0) < window)
        return out | {
            "customers": len(customers),
            "churned": churned,
            "rate": _rate(churned, len(customers)),
        }


def _periods(
    persons: Mapping[int, set[str]],
    profiles: Mapping[int, set[str]],
    length: int,
    days: int,
    start: float,
) -> list[dict[str, Any]]:
    """Per period of ``length`` days: unique visitors, and those already seen in an earlier one."""
    count = max(1, -(-days // length))
    people: list[set[str]] = [set() for _ in range(count)]
    stitched: list[set[str]] = [set() for _ in range(count)]
    for by_day, periods in ((persons, people), (profiles, stitched)):
        for day, visitors in by_day.items():
            if 0 <= day < days:
                periods[day // length] |= visitors
    out = []
    for index in range(count):
        first = datetime.fromtimestamp(start + index * length * DAY, UTC).strftime("%Y-%m-%d")
        out.append(
            {
                "from": first,
                "persons": _returning(people, index),
                "profiles": _returning(stitched, index),
            }
        )
    return out


def _returning(periods: list[set[str]], index: int) -> dict[str, int]:
    seen = set().union(*periods[:index]) if index else set()
    unique = periods[index]
    returning = len(unique & seen)
    return {"unique": len(unique), "new": len(unique) - returning, "returning": returning}


def profile_index(
    rows: Iterable[Mapping[str, Any]], devices: Container[str] | None = None
) -> dict[str, str]:
    """device id -> stitched profile id (household lines are counted apart and skipped);
    with ``devices``, only theirs."""
    index: dict[str, str] = {}
    for row in rows:
        if row.get("kind") == "household":
            continue
        for device_id in row.get("device_ids") or []:
            if devices is None or device_id in devices:
                index.setdefault(str(device_id), str(row["profile_id"]))
    return index


def trace_tally(
    events: Iterable[Mapping[str, Any]],
    truth: Iterable[Mapping[str, Any]] | Owners,
    messages: Iterable[Mapping[str, Any]],
    start: float,
) -> JourneyTally:
    """The tally of a trace, or of every event of some households (a shard's part of one):
    its events in trace order, the truth of their devices, the messages sent to them."""
    metrics = JourneyMetrics(owners_of(truth), start)
    metrics.sent(messages)
    metrics.consume(events)
    return metrics.finish()


def journey_metrics(
    events: Iterable[Mapping[str, Any]],
    truth: Iterable[Mapping[str, Any]],
    profiles: Iterable[Mapping[str, Any]],
    messages: Iterable[Mapping[str, Any]],
    start: datetime,
    days: int,
    config: MetricsConfig,
) -> dict[str, Any]:
    """The ``journey_metrics`` block of ``summary.json`` from a run's tables."""
    tally = trace_tally(events, truth, messages, start.timestamp())
    return journey_block([tally], profiles, start.timestamp(), days, config)


def trace_events(path: Path) -> Iterator[SegmentEvent]:
    """The trace's events, read once and shape-checked by :func:`sim.trace.reader.read_events`."""
    return read_events(path)


def run_folder_metrics(
    run_dir: Path, start: datetime, days: int, config: MetricsConfig
) -> dict[str, Any]:
    """:func:`journey_metrics` of a run folder: the trace read once, the rest beside it."""
    return journey_metrics(
        trace_events(run_dir / "trace.jsonl.gz"),
        read_jsonl(run_dir / "truth.jsonl.gz"),
        read_optional_jsonl(run_dir / "profiles.jsonl"),
        read_optional_jsonl(run_dir / "messages.jsonl"),
        start,
        days,
        config,
    )
