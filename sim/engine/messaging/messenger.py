"""The messenger: campaigns in, decisions out, one logged line per decision.

A dispatcher's desk with a ticking clock. Events arrive with the profile the
identity graph stitched them to; the desk updates that profile's card,
notices triggers (a ``Product Added`` starts a one-hour timer, a storm alert
fires at its moment, a quiet profile drifts into the win-back list) and puts
a ticket on a spike sorted by due time. Every ``tick(now)`` takes the tickets
that are due and runs them past the guards: exit criteria, the variant coin
(a control group is held out but measured), send-time optimisation, channel
and device choice with consent, quiet hours on the device's local clock, and
frequency caps on the stitched profile. What passes becomes a ``Delivery``;
what does not is logged as suppressed with its reason.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sim.engine.messaging.guards as guards
from sim.engine.messaging.channels import CHANNEL_DEVICES, VISUAL, Choice, choose
from sim.engine.messaging.clock import HOUR, MessageClock
from sim.engine.messaging.config import Campaign, Variant, check_start
from sim.engine.messaging.content import render
from sim.engine.messaging.journeys import Journey
from sim.engine.messaging.profiles import Exposure, ProfileBook, ProfileCard
from sim.engine.messaging.programme import Programme, ProgrammeCap, horizon
from sim.engine.messaging.rules import tallies
from sim.engine.messaging.segments import matches, trait_matches
from sim.engine.messaging.templates import RenderError, fill, localize
from sim.engine.messaging.variants import assign
from sim.engine.messaging.walker import Pool, Walker
from sim.trace.clock import DAY

DRIVING_RETRY = 20 * 60.0  # wait this long for a drive to end before trying again (assumed)
DEDUP_CHANNELS = frozenset({"push", "watch", "in_app", "sms"})


@dataclass(frozen=True)
class Delivery:
    """A message leaving the engine for one device."""

    campaign: str
    variant: str
    profile_id: str
    device_id: str
    device_type: str
    channel: str
    at: float
    stamp: str
    topic: str
    content: dict[str, Any]


@dataclass(order=True)
class Pending:
    """A ticket on the spike: campaign ``campaign`` is due for a profile at ``due``."""

    due: float
    seq: int
    campaign: str = field(compare=False)
    profile_id: str = field(compare=False)
    trigger_at: float = field(compare=False)
    optimised: bool = field(default=False, compare=False)
    exposed: bool = field(default=False, compare=False)
    run: Any = field(default=None, compare=False)  # a journey's message step: its Run
    path: str = field(default="", compare=False)  # the run's experiment path
    event: dict[str, Any] | None = field(default=None, compare=False)  # trigger's properties


@dataclass
class VariantTally:
    """Exposed profiles and goal conversions of one (campaign, variant)."""

    n: int = 0
    conversions: int = 0


def remembered(
    campaigns: list[Campaign],
) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Event names audiences count, names exits and goals check the last time of, and
    names the messenger acts on (triggers and goals)."""
    counted = {n for c in campaigns for n in (*c.audience.min_events, *c.audience.max_events)}
    goals = {c.goal.event for c in campaigns if c.goal is not None}
    watched = {n for c in campaigns for n in c.exit} | goals
    triggers = {c.trigger.event for c in campaigns if c.trigger.kind == "event"}
    return frozenset(counted), frozenset(watched), frozenset(goals | triggers)


class Messenger:
    """Implements the engine's ``Messaging`` protocol: ``observe``, ``tick``, ``decisions``, ``clock``."""

    def __init__(
        self,
        campaigns: list[Campaign],
        where: str = "scenario",
        journeys: list[Journey] | None = None,
        programme: Programme | None = None,
    ) -> None:
        self.where = where  # the scenario file, first in every problem bind_start finds
        self.programme = programme or Programme()
        journeys = journeys or []
        campaigns = campaigns + [c for j in journeys for c in j.campaigns]
        self.campaigns = {c.name: c for c in campaigns}
        self.clock = MessageClock()
        counted, watched, reactive = remembered(campaigns)
        rules = [c.audience.rule for c in campaigns if c.audience.rule is not None]
        for journey in journeys:
            counted |= {*journey.audience.min_events, *journey.audience.max_events}
            watched |= journey.watched()
            rules += journey.rules()
        self.pool: Pool | None = None  # the runner's: trades a paced broadcast's wave
        self.walker = Walker(self, journeys) if journeys else None
        if self.walker is not None:
            reactive |= self.walker.listening
        self.book = ProfileBook(self.clock, counted, watched, reactive, tallies(rules))
        # a journey's own programme caps (``()``: exempt) in place of the house caps
        self.own_caps: dict[str, tuple[ProgrammeCap, ...]] = {
            c.name: j.programme_caps
            for j in journeys
            if j.programme_caps is not None
            for c in j.campaigns
        }
        if self.walker is not None:
            self.book.on_merge = self.walker.merged
        self.queue: list[Pending] = []
        self.pending: set[tuple[str, str]] = set()
        self.decisions: list[dict[str, Any]] = []
        self.deferred: Counter[str] = Counter()
        self.results: dict[tuple[str, str], VariantTally] = {}
        self.by_event: dict[str, list[Campaign]] = {}
        self.goals = {c.goal.event for c in campaigns if c.goal is not None}
        self.fired: set[str] = set()
        self.daily: dict[tuple[int, str], set[str]] = {}  # (local day, campaign) -> profiles
        self.scanned_hour = -1
        self.moments: list[tuple[float, str]] = []  # (due seconds, campaign) not fired yet
        self.wake = -float("inf")  # ticks before this moment have nothing to do
        self.auto_roll = True  # roll the workspace histogram at day boundaries by itself
        self.rolled_days = 0  # decisions know what the workspace learned on days before this
        self._seq = 0
        for campaign in campaigns:
            if campaign.trigger.kind == "event":
                self.by_event.setdefault(campaign.trigger.event, []).append(campaign)
            for variant in campaign.variants:
                self.results[(campaign.name, variant.name)] = VariantTally()
        self.keep_sends = max((c.caps.horizon for c in campaigns), default=0.0)
        every = [self.programme.caps, *self.own_caps.values()]
        self.keep_sends = max(self.keep_sends, *(horizon(caps) for caps in every))
        self._schedule_moments()
        if self.walker is not None:
            self.walker.schedule_moments()

    def bind_start(self, start: datetime) -> None:
        """Tie ``tick`` seconds to the calendar; checks one-off moments are not in the past."""
        journeys = self.walker.journeys.values() if self.walker is not None else ()
        check_start(
            start,
            self.where,
            [
                *(
                    (f"campaigns ({c.name}).trigger.at", c.trigger.at)
                    for c in self.campaigns.values()
                ),
                *((f"journeys ({j.name}).entry.at", j.entry.at) for j in journeys),
            ],
        )
        self.clock = MessageClock(start)
        self.book.clock = self.clock
        self._schedule_moments()
        if self.walker is not None:
            self.walker.schedule_moments()

    def _schedule_moments(self) -> None:
        """The one-off broadcasts in order of their moment, in this clock's seconds."""
        self.moments = sorted(
            ((c.trigger.at - self.clock.start).total_seconds(), c.name)
            for c in self.campaigns.values()
            if c.trigger.at is not None and c.name not in self.fired
        )
        self.wake = -float("inf")

    # ---- the Messaging protocol ------------------------------------------------------------

    def observe(self, event: dict[str, Any], profile_id: str | None) -> None:
        if profile_id is None:
            return
        seen = self.book.observe(event, profile_id)
        if seen is not None:
            state, at, name = seen
            self._react(state, name, event, at)

    def _react(self, state: ProfileCard, name: str, event: dict[str, Any], at: float) -> None:
        """A goal event converts exposures; a trigger event enters campaigns."""
        if name in self.goals:
            self._convert(state, name, event, at)
        for campaign in self.by_event.get(name, ()):
            if self._trigger_matches(campaign, event):
                props = event.get("properties")
                props = props if isinstance(props, dict) else {}
                self._enter(campaign, state, at, at + campaign.trigger.delay, props)
        if self.walker is not None:
            self.walker.on_event(state, name, event, at)

    def tick(self, now_seconds: float) -> list[Delivery]:
        """Deliveries due at ``now_seconds``; every decision is logged in ``decisions``.

        The loop ticks every simulated minute, and most minutes nothing is due:
        ``wake`` is the earliest moment anything can happen (a ticket, a one-off
        broadcast) and the hour scanned last is remembered, so a tick before it
        in the same hour returns at once.
        """
        if now_seconds < self.wake and int(now_seconds // HOUR) == self.scanned_hour:
            return []
        if self.auto_roll:
            while self.rolled_days <= int(now_seconds // DAY) - 1:
                self._roll(self.workspace_learned_since_roll())
        self._broadcasts(now_seconds)
        walker = self.walker
        if walker is not None:
            walker.tick(now_seconds)
        out: list[Delivery] = []
        while self.queue and self.queue[0].due <= now_seconds:
            ticket = heapq.heappop(self.queue)
            if ticket.run is not None and walker is not None:
                if not walker.live(ticket.run):  # the run exited while the ticket waited
                    self.pending.discard((ticket.campaign, ticket.profile_id))
                    continue
                delivery = self._decide(ticket, now_seconds)
                if (ticket.campaign, ticket.profile_id) not in self.pending:  # not deferred
                    walker.after_message(ticket.run, now_seconds)
            else:
                delivery = self._decide(ticket, now_seconds)
            if delivery is not None:
                out.append(delivery)
        self._plan_wake()
        return out

    def _plan_wake(self) -> None:
        """The next moment a ticket or a one-off broadcast is due (the hourly scan aside)."""
        wake = float("inf")
        if self.queue:
            wake = self.queue[0].due
        if self.moments:
            wake = min(wake, self.moments[0][0])
        if self.walker is not None:
            wake = min(wake, self.walker.due())
        self.wake = wake

    # ---- the workspace's send-time fallback, rolled once per simulated day -----------------

    def workspace_learned_since_roll(self) -> list[float]:
        """Per local hour, what this process's profiles taught the workspace on the day
        being closed next (scenario day ``rolled_days``, and any earlier stragglers).

        Events of later days already seen stay for their own roll, so a caller may
        ask a little after the boundary and still get exactly that day.
        """
        return self.book.learned_through(self.rolled_days)

    def roll_workspace(self, total_delta: list[float]) -> None:
        """Close the next simulated day: ``total_delta`` (every worker's
        ``workspace_learned_since_roll`` added up, or this process's own) joins the
        histogram that send-time decisions read, and the local learning for the day
        is dropped.

        Calling it hands the roll to the caller: the messenger no longer rolls by
        itself (``auto_roll`` turns off). Call it at each day boundary before any tick
        at or after the boundary.
        """
        self.auto_roll = False
        self._roll(total_delta)

    def _roll(self, delta: list[float]) -> None:
        self.book.roll(self.rolled_days, delta)
        self.rolled_days += 1

    # ---- entering a campaign ---------------------------------------------------------------

    @staticmethod
    def _trigger_matches(campaign: Campaign, event: dict[str, Any]) -> bool:
        wanted = campaign.trigger.properties
        if not wanted:
            return True
        props = event.get("properties") or {}
        return all(trait_matches(props.get(k), v) for k, v in wanted.items())

    def _reachable(self, campaign: Campaign, state: ProfileCard) -> bool:
        channels = {c for v in campaign.variants for c in (v.channels or campaign.channels)}
        kinds = {k for c in channels for k in CHANNEL_DEVICES[c]}
        return any(d.type in kinds for d in state.devices.values())

    def _enter(
        self,
        campaign: Campaign,
        state: ProfileCard,
        at: float,
        due: float,
        event: dict[str, Any] | None = None,
    ) -> None:
        key = (campaign.name, state.id)
        if key in self.pending or not matches(campaign.audience, state, at):
            return
        entered = state.entered.get(campaign.name)
        if entered is not None and (campaign.reentry is None or at - entered < campaign.reentry):
            return
        if not self._reachable(campaign, state):
            return
        state.entered[campaign.name] = at
        self._push(Pending(due, 0, campaign.name, state.id, at, event=event))

    def journey_ticket(self, run: Any, campaign: str, path: str, now: float) -> None:
        """A journey's message step, due now: decided like any campaign's ticket."""
        ticket = Pending(now, 0, campaign, run.origin, now, run=run, path=path, event=run.event)
        self._push(ticket)

    def _push(self, ticket: Pending) -> None:
        self._seq += 1
        ticket.seq = self._seq
        self.pending.add((ticket.campaign, ticket.profile_id))
        heapq.heappush(self.queue, ticket)
        self.wake = min(self.wake, ticket.due)

    def _broadcasts(self, now: float) -> None:
        """Moments, local times of day and idleness: checked once per simulated hour."""
        if self.moments and now >= self.moments[0][0]:
            self._moments_due(now)
        hour = int(now // HOUR)
        if hour == self.scanned_hour:
            return
        self.scanned_hour = hour
        self._forget_days(now)
        for campaign in self.campaigns.values():
            if campaign.trigger.kind == "local_time":
                self._daily(campaign, now)
            elif campaign.trigger.kind == "idle":
                self._idle(campaign, now)
        if self.walker is not None:
            self.walker.forget_days(now)
            self.walker.hourly(now)

    def _moments_due(self, now: float) -> None:
        """One-off broadcasts (``trigger.at``) whose moment has come: every known profile."""
        while self.moments and now >= self.moments[0][0]:
            _, name = self.moments.pop(0)
            campaign = self.campaigns[name]
            self.fired.add(name)
            for state in list(self.book.states.values()):
                self._enter(campaign, state, now, now + campaign.trigger.delay)

    def _daily(self, campaign: Campaign, now: float) -> None:
        """Profiles whose local clock reaches the campaign's time within the coming hour.

        The next moment, day and weekday depend only on the time zone, so they
        are worked out once per zone, not once per profile.
        """
        trigger = campaign.trigger
        slots: dict[str, tuple[float, int, int]] = {}
        for state in list(self.book.states.values()):
            tz = state.timezone
            slot = slots.get(tz)
            if slot is None:
                slot = slots[tz] = self._next_daily(now, tz, trigger.local_minute)
            due, day, weekday = slot
            if due - now >= HOUR or state.id in self.daily.get((day, campaign.name), ()):
                continue
            if weekday not in trigger.days:
                continue
            self.daily.setdefault((day, campaign.name), set()).add(state.id)
            state.entered.pop(campaign.name, None)  # a daily message enters afresh each day
            self._enter(campaign, state, due, due)

    def _forget_days(self, now: float) -> None:
        """Drop daily entries of local days that have passed everywhere on Earth.

        Every local clock is within a day of UTC (at most 12 hours behind), so a
        day before yesterday's UTC day can never be the day of a coming local time.
        """
        today = int((self.clock.epoch + now) // DAY)
        for key in [k for k in self.daily if k[0] < today - 1]:
            del self.daily[key]

    def _next_daily(self, now: float, tz: str, minute: int) -> tuple[float, int, int]:
        """The next moment the local clock of ``tz`` reads ``minute``: (seconds, day, weekday)."""
        due = self.clock.next_local(now, tz, minute)
        return due, self.clock.local_day(due, tz), self.clock.local_weekday(due, tz)

    def _idle(self, campaign: Campaign, now: float) -> None:
        idle = campaign.trigger.idle
        for state in list(self.book.states.values()):
            if now - state.last_seen >= idle:
                self._enter(campaign, state, now, now)

    # ---- deciding --------------------------------------------------------------------------

    def _decide(self, ticket: Pending, now: float) -> Delivery | None:
        campaign = self.campaigns[ticket.campaign]
        self.pending.discard((ticket.campaign, ticket.profile_id))
        pid = self.book.resolve(ticket.profile_id)
        state = self.book.states.get(pid)
        if state is None:
            return None
        base = {"campaign": campaign.name, "profile_id": pid}
        if ticket.run is not None:
            base |= {"journey": ticket.run.journey.name, "step": campaign.name.split("/", 1)[1]}
        reason = self._exited(campaign, state, ticket)
        if reason:
            self._log(base | {"variant": state.variants.get(campaign.name)}, now, reason)
            return None
        variant = self._variant(campaign, state)
        base["variant"] = ticket.path or variant.name
        if not ticket.exposed:
            ticket.exposed = True
            self._expose(campaign, variant, state, now)
        if variant.control:
            self._log(base, now, "control_group")
            return None
        if variant.send_time == "optimised" and not ticket.optimised:
            ticket.optimised = True
            later = guards.optimised_time(
                state, self.book.workspace_hours, campaign.quiet, self.clock, now, state.timezone
            )
            if later > now + 60.0:
                self._defer(ticket, later, "send_time")
                return None
        return self._route(campaign, variant, state, ticket, base, now)

    def _route(
        self,
        campaign: Campaign,
        variant: Variant,
        state: ProfileCard,
        ticket: Pending,
        base: dict[str, Any],
        now: float,
    ) -> Delivery | None:
        message = variant.message or campaign.message
        if not message.transactional and self.programme.held_out(state.id):
            self._log(base, now, "global_control")
            return None
        channels = variant.channels or campaign.channels
        choice = choose(state, channels, campaign.policy, self.clock, now)
        if choice is None:
            if state.driving(now) and any(c in VISUAL for c in channels):
                if now + DRIVING_RETRY - ticket.trigger_at <= campaign.expires:
                    self._defer(ticket, now + DRIVING_RETRY, "driving")
                    return None
                self._log(base, now, "driving")
                return None
            self._log(base, now, "no_consent")
            return None
        try:
            row = base | self._where(choice, campaign, variant, state, ticket.event)
        except RenderError as exc:  # never sent half-filled
            self._log(base | self._device_row(choice), now, f"render_failed:{exc}")
            return None
        tz = choice.device.timezone
        if guards.quiet(campaign.quiet, self.clock, now, tz):
            later = guards.quiet_end(campaign.quiet, self.clock, now, tz)
            if later - ticket.trigger_at <= campaign.expires:
                self._defer(ticket, later, "quiet_hours")
                return None
            self._log(row, now, "quiet_hours")
            return None
        cap = guards.over_cap(state, campaign.caps, choice.channel, self.clock, now)
        if not cap and not message.transactional:
            own = self.own_caps.get(campaign.name)
            cap = self.programme.over(state, choice.channel, message.tag, self.clock, now, own)
        if cap:
            self._log(row, now, cap)
            return None
        return self._send(campaign, variant, state, choice, row, now)

    def _exited(self, campaign: Campaign, state: ProfileCard, ticket: Pending) -> str:
        exits = campaign.exit + ((campaign.goal.event,) if campaign.goal else ())
        for name in exits:
            if state.last_event.get(name, -1e18) >= ticket.trigger_at:
                return f"exit:{name}"
        decided = state.entered.get(f"sent:{campaign.name}")
        if decided is not None and decided >= ticket.trigger_at:
            return "dedup"  # two devices' tickets, one stitched person
        return ""

    def _variant(self, campaign: Campaign, state: ProfileCard) -> Variant:
        name = state.variants.get(campaign.name)
        if name is None:
            name = assign(campaign.name, state.id, campaign.variants).name
            state.variants[campaign.name] = name
        return campaign.variant(name)

    def _expose(self, campaign: Campaign, variant: Variant, state: ProfileCard, now: float) -> None:
        self.results[(campaign.name, variant.name)].n += 1
        state.exposures = [e for e in state.exposures if e.open(now)]
        if campaign.goal is not None:
            goal = campaign.goal
            state.exposures.append(
                Exposure(campaign.name, variant.name, now, goal.event, goal.properties, goal.window)
            )

    def _convert(self, state: ProfileCard, name: str, event: dict[str, Any], at: float) -> None:
        props = event.get("properties") or {}
        for exposure in state.exposures:
            if exposure.converted or exposure.goal != name:
                continue
            if not 0.0 <= at - exposure.at <= exposure.window:
                continue
            if all(trait_matches(props.get(k), v) for k, v in exposure.goal_properties.items()):
                exposure.converted = True
                self.results[(exposure.campaign, exposure.variant)].conversions += 1

    def _defer(self, ticket: Pending, due: float, why: str) -> None:
        self.deferred[why] += 1
        ticket.due = due
        self._push(ticket)

    def _where(
        self,
        choice: Choice,
        campaign: Campaign,
        variant: Variant,
        state: ProfileCard,
        event: dict[str, Any] | None,
    ) -> dict[str, Any]:
        device = choice.device
        message = variant.message or campaign.message
        written, locale = localize(message, device.locale)
        content = render(fill(written, state, event), device.type, device.app, choice.channel)
        if message.locales:
            content["locale"] = locale  # which language went out (the loop reads it)
        return self._device_row(choice) | {"content": content, "topic": message.topic}

    @staticmethod
    def _device_row(choice: Choice) -> dict[str, Any]:
        return {
            "device_id": choice.device.id,
            "device_type": choice.device.type,
            "channel": choice.channel,
        }

    def _send(
        self,
        campaign: Campaign,
        variant: Variant,
        state: ProfileCard,
        choice: Choice,
        row: dict[str, Any],
        now: float,
    ) -> Delivery:
        day = self.clock.local_day(now, state.timezone)
        state.sends = [s for s in state.sends if now - s[0] < self.keep_sends]
        state.sends.append((now, choice.channel, day, (variant.message or campaign.message).tag))
        state.sent_by_channel[choice.channel] += 1
        state.entered[f"sent:{campaign.name}"] = now
        self._log(row, now, "", "sent")
        if choice.channel in DEDUP_CHANNELS:
            for other in choice.others:
                self._log(row | {"device_id": other.id, "device_type": other.type}, now, "dedup")
        return Delivery(
            campaign.name,
            str(row["variant"]),  # the variant, or a journey run's experiment path
            state.id,
            choice.device.id,
            choice.device.type,
            choice.channel,
            now,
            self.clock.stamp(now),
            str(row["topic"]),
            row["content"],
        )

    def _log(
        self, row: dict[str, Any], now: float, reason: str, decision: str = "suppressed"
    ) -> None:
        content = row.get("content") or {}
        journey = {"journey": row["journey"], "step": row["step"]} if "journey" in row else {}
        self.decisions.append(
            journey
            | {
                "campaign": row.get("campaign"),
                "variant": row.get("variant"),
                "profile_id": row.get("profile_id"),
                "device_id": row.get("device_id") or "",  # "" when no device was chosen
                "device_type": row.get("device_type") or "",
                "channel": row.get("channel") or "",
                "at": self.clock.stamp(now),
                "decision": decision,
                "reason": reason,
                "content": {"text": content.get("text"), "deep_link": content.get("deep_link")}
                | {k: v for k, v in content.items() if k not in ("text", "deep_link")},
            }
        )

    # ---- read side -------------------------------------------------------------------------

    def journey_rows(self) -> list[dict[str, Any]]:
        """Every move of every journey run (the lines of ``journey_steps.jsonl``)."""
        return list(self.walker.rows) if self.walker is not None else []

    def experiments(self) -> list[dict[str, Any]]:
        """Per campaign (with a goal) and variant: assigned profiles, conversions, rate."""
        rows = []
        for (campaign, variant), result in self.results.items():
            if self.campaigns[campaign].goal is None:
                continue
            control = self.campaigns[campaign].variant(variant).control
            rows.append(
                {
                    "campaign": campaign,
                    "variant": variant,
                    "control": control,
                    "n": result.n,
                    "conversions": result.conversions,
                    "rate": round(result.conversions / result.n, 4) if result.n else 0.0,
                }
            )
        return rows
