"""The walker: stitched profiles moving through journeys as their events arrive.

Each person in a journey is a counter on the board (a :class:`Run`). Events
move counters at once (an awaited event, a goal, an exit event, an opt-out);
the clock moves the rest (a wait that ran out). Splits and experiments are
decided the moment a counter lands on them; a message square hands a ticket
to the messenger's desk and the counter moves on once the desk has decided
(sent, or suppressed with its reason), so a journey's message passes exactly
the guards a campaign's does.

Everything a split reads is on the stitched profile card or the run: an
"opened since entry" (of this journey's own messages: the engagement event
names the message) sees the watch and the laptop together once the identity
graph has joined them. Entries come from events, moments, local times, and
changes: a profile coming into or out of a segment, a trait turning to a
value (push granted). A paced broadcast lets its audience in N a minute in a
hash order shared by every process of the run. A stitching miss is the same person on two cards, walking the
journey twice (each card's runs are its own). When the graph joins two cards
mid-journey, their counters are kept together on the joined card.

Every move is one row of ``journey_rows`` (entered, advanced, exited,
converted); scoring the rows is ``sim.analysis.journeys``'s job.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sim.engine.messaging.clock import HOUR, MessageClock
from sim.engine.messaging.journeys import CLICKED, OPENED, OPT_OUT, ORDERED, Journey, Step
from sim.engine.messaging.profiles import LATE, ProfileBook, ProfileCard
from sim.engine.messaging.rules import holds
from sim.engine.messaging.segments import matches, trait_matches
from sim.engine.messaging.variants import bucket
from sim.trace.clock import DAY

Wave = list[tuple[float, str]]  # a broadcast's entrants: (place in the hash order, profile id)
Pool = Callable[[str, Wave], Wave]  # this process's wave -> every process's, in order


class Desk(Protocol):
    """The messenger, as the walker sees it: its clock, its cards, its ticket spike."""

    clock: MessageClock
    book: ProfileBook
    wake: float
    pool: Pool | None

    def _next_daily(self, now: float, tz: str, minute: int) -> tuple[float, int, int]: ...

    def journey_ticket(self, run: Any, campaign: str, path: str, now: float) -> None: ...


NEVER = -1e18
UNSEEN = object()  # a trait the walker has not looked at yet on this card
OPENED_SET, CLICKED_SET = frozenset(OPENED), frozenset(CLICKED)
SPLIT_EVENTS: dict[str, tuple[str, ...]] = {
    "opened": OPENED,
    "clicked": CLICKED,
    "ordered": ORDERED,
}


@dataclass(slots=True)
class Run:
    """One profile's walk through one journey."""

    journey: Journey
    origin: str  # the profile id at entry: with the entry second, the run's name
    entered: float
    step: str
    since: float
    path: str = ""
    version: int = 0
    done: bool = False
    converted: bool = False
    waiting: str = ""  # an awaited event name, or "message" while the desk decides
    event: dict[str, Any] | None = None  # the entry event's properties (for templates)
    opened: set[str] = field(default_factory=set)  # ids of the journey's messages opened
    clicked: set[str] = field(default_factory=set)  # ... and clicked, since entry

    @property
    def id(self) -> str:
        return f"{self.origin}@{int(self.entered)}"


class Walker:
    """Advances every profile's runs; owned by a :class:`Messenger`, which calls it."""

    def __init__(self, messenger: Desk, journeys: list[Journey]) -> None:
        self.desk = messenger
        self.journeys = {j.name: j for j in journeys}
        self.by_event: dict[str, list[Journey]] = {}
        self.listening: set[str] = set()  # names any run may react to
        self.changes = [j for j in journeys if j.entry.kind in ("enters", "leaves", "trait")]
        self.changes_by_event: dict[str, list[Journey]] = {}
        for journey in self.changes:
            for read in sorted(journey.entry.reads()):
                self.changes_by_event.setdefault(read, []).append(journey)
        for journey in journeys:
            if journey.entry.kind == "event":
                self.by_event.setdefault(journey.entry.event, []).append(journey)
            self.listening |= journey.reactive()
            if journey.exit_on_opt_out:
                self.listening |= {"Unsubscribed", "Push Permission Changed"}
        self.runs: dict[str, list[Run]] = {}  # profile id -> its runs (live, or converting)
        self.timers: list[tuple[float, int, str, Any, int]] = []  # due, seq, kind, payload, version
        self.rows: list[dict[str, Any]] = []
        self.daily: dict[tuple[str, str], int] = {}  # (journey, profile) -> local day entered
        self.fired: set[str] = set()
        self._seq = 0

    # ---- wiring ----------------------------------------------------------------------------

    def schedule_moments(self) -> None:
        """One-off entries (``entry.at``) as timers in the messenger clock's seconds."""
        self.timers = [t for t in self.timers if t[2] != "moment"]
        heapq.heapify(self.timers)
        for journey in self.journeys.values():
            if journey.entry.at is not None and journey.name not in self.fired:
                due = (journey.entry.at - self.desk.clock.start).total_seconds()
                self._timer(due, "moment", journey.name, 0)

    def due(self) -> float:
        return self.timers[0][0] if self.timers else float("inf")

    def merged(self, old: str, new: str) -> None:
        """The identity graph joined two cards: their counters now walk together."""
        moved = self.runs.pop(old, None)
        if moved:
            self.runs.setdefault(new, []).extend(moved)

    def _timer(self, due: float, kind: str, payload: Any, version: int) -> None:
        self._seq += 1
        heapq.heappush(self.timers, (due, self._seq, kind, payload, version))
        self.desk.wake = min(self.desk.wake, due)

    # ---- events ----------------------------------------------------------------------------

    def on_event(self, state: ProfileCard, name: str, event: dict[str, Any], at: float) -> None:
        """Goals convert, exits end runs, awaited events move them; entries start them."""
        runs = self.runs.get(state.id)
        props = event.get("properties")
        props = props if isinstance(props, dict) else {}
        if runs:
            if name in OPENED_SET or name in CLICKED_SET:
                self._engaged(runs, name, props, at)
            self._move(state, runs, name, event, at)
        for journey in self.by_event.get(name, ()):
            wanted = journey.entry.properties
            if all(trait_matches(props.get(k), v) for k, v in wanted.items()):
                self.enter(journey, state, at, props)
        for journey in self.changes_by_event.get(name, ()):
            self._changed(journey, state, at)

    @staticmethod
    def _engaged(runs: list[Run], name: str, props: dict[str, Any], at: float) -> None:
        """An open or click of a message: the run of the journey that sent it notes the step."""
        campaign = props.get("campaign")
        if not isinstance(campaign, str) or "/" not in campaign:
            return
        journey, step = campaign.split("/", 1)
        for run in runs:
            if run.journey.name == journey and not run.done and at >= run.entered:
                if name in OPENED_SET:
                    run.opened.add(step)
                if name in CLICKED_SET:
                    run.clicked.add(step)

    def _changed(self, journey: Journey, state: ProfileCard, at: float) -> None:
        """Entry on a change: into or out of a segment, or a trait turning to a value."""
        entry = journey.entry
        if entry.kind == "trait":
            now = state.trait(entry.trait)
            seen = f"{journey.name}:{entry.trait}"
            was = state.seen_traits.get(seen, UNSEEN)
            if was is not UNSEEN and was == now:
                return
            state.seen_traits[seen] = now
            if not trait_matches(now, entry.to):
                return
            if entry.any_source:
                if was is UNSEEN or not trait_matches(was, entry.to):
                    self.enter(journey, state, at)
            elif was is not UNSEEN and trait_matches(was, entry.source):
                self.enter(journey, state, at)
            return
        assert entry.rule is not None
        key = f"segment:{journey.name}"
        inside = holds(entry.rule, state, at)
        was_inside = state.member.get(key, False)
        state.member[key] = inside
        if inside != was_inside and inside == (entry.kind == "enters"):
            self.enter(journey, state, at)

    def _move(
        self, state: ProfileCard, runs: list[Run], name: str, event: dict[str, Any], at: float
    ) -> None:
        for run in list(runs):
            journey = run.journey
            goal = journey.goal
            if goal is not None and name == goal.event and not run.converted:
                props = event.get("properties") or {}
                if 0.0 <= at - run.entered <= goal.window and all(
                    trait_matches(props.get(k), v) for k, v in goal.properties.items()
                ):
                    run.converted = True
                    self._row(run, state.id, at, "converted", seconds=at - run.entered)
            if run.done:
                continue
            reason = self._exit_reason(run, state)
            if reason:
                self._exit(run, state.id, at, reason)
            elif run.waiting and run.waiting == name:
                step = journey.steps[run.step]
                self._advance(run, state.id, at, "event", step.next)
                self.walk(run, state, at)
        self._forget(state.id, at)

    def _forget(self, pid: str, now: float) -> None:
        """Drop finished runs whose goal window (and an hour of late events) has passed."""
        runs = self.runs.get(pid)
        if not runs:
            return
        keep = [r for r in runs if not r.done or self._converting(r, now)]
        if keep:
            self.runs[pid] = keep
        else:
            del self.runs[pid]

    @staticmethod
    def _converting(run: Run, now: float) -> bool:
        goal = run.journey.goal
        if goal is None or run.converted:
            return False
        return now - run.entered <= goal.window + LATE

    # ---- entering --------------------------------------------------------------------------

    def enter(
        self,
        journey: Journey,
        state: ProfileCard,
        at: float,
        event: dict[str, Any] | None = None,
    ) -> None:
        """Start a run unless the audience, the re-entry rule or a live run says no."""
        if not self._may_enter(journey, state, at):
            return
        runs = self.runs.setdefault(state.id, [])
        state.entered[f"journey:{journey.name}"] = at
        run = Run(journey, state.id, at, journey.start, at, event=event)
        runs.append(run)
        self._row(run, state.id, at, "entered", to=journey.start)
        self.walk(run, state, at)

    def _may_enter(self, journey: Journey, state: ProfileCard, at: float) -> bool:
        if not matches(journey.audience, state, at):
            return False
        last = state.entered.get(f"journey:{journey.name}")
        if last is not None and (journey.reentry is None or at - last < journey.reentry):
            return False
        runs = self.runs.get(state.id, ())
        return not any(r.journey is journey and not r.done for r in runs)

    def hourly(self, now: float) -> None:
        """Segment entries (coming to match the audience, entering or leaving a segment as
        time windows pass) and local-time entries."""
        for journey in self.journeys.values():
            kind = journey.entry.kind
            if kind == "segment":
                for state in list(self.desk.book.states.values()):
                    self.enter(journey, state, now)
            elif kind in ("enters", "leaves"):
                for state in list(self.desk.book.states.values()):
                    self._changed(journey, state, now)
            elif kind == "local_time":
                self._daily(journey, now)

    def _daily(self, journey: Journey, now: float) -> None:
        entry = journey.entry
        slots: dict[str, tuple[float, int, int]] = {}
        for state in list(self.desk.book.states.values()):
            slot = slots.get(state.timezone)
            if slot is None:
                slot = slots[state.timezone] = self.desk._next_daily(
                    now, state.timezone, entry.local_minute
                )
            due, day, weekday = slot
            key = (journey.name, state.id)
            if due - now >= HOUR or self.daily.get(key) == day or weekday not in entry.days:
                continue
            self.daily[key] = day
            state.entered.pop(f"journey:{journey.name}", None)  # a daily entry is afresh each day
            self._timer(due, "daily", (journey.name, state.id), 0)

    # ---- the clock -------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Timers that ran out: waits, one-off and daily entries."""
        book = self.desk.book
        while self.timers and self.timers[0][0] <= now:
            _, _, kind, payload, version = heapq.heappop(self.timers)
            if kind == "moment":
                self.fired.add(payload)
                journey = self.journeys[payload]
                if journey.per_minute:
                    self._paced(journey, now)
                    continue
                for state in list(book.states.values()):
                    self.enter(journey, state, now)
            elif kind in ("admit", "daily"):  # a paced broadcast's turn, a local time of day
                name, pid = payload
                card = book.get(pid)
                if card is not None:
                    self.enter(self.journeys[name], card, now)
            else:
                self._timeout(payload, version, now)

    def _paced(self, journey: Journey, now: float) -> None:
        """A rate-limited broadcast: its audience enters ``per_minute`` people a minute, in the
        order of a hash of (journey, profile id), so the order is the same on every machine.

        With the households dealt to several processes, each holds part of the audience;
        ``pool`` (set by the runner) trades the parts so every process knows each of its
        profiles' place in the whole wave. One process (``hopsim serve``, ``--workers 1``)
        has the whole wave already.
        """
        book = self.desk.book
        wave = sorted(
            (bucket(f"{journey.name}/rate", state.id), state.id)
            for state in book.states.values()
            if self._may_enter(journey, state, now)
        )
        mine = {pid for _, pid in wave}
        everyone = self.desk.pool(journey.name, wave) if self.desk.pool is not None else wave
        for place, (_, pid) in enumerate(everyone):
            if pid not in mine:
                continue
            due = now + (place // journey.per_minute) * 60.0
            if due <= now:
                card = book.get(pid)
                if card is not None:
                    self.enter(journey, card, now)
            else:
                self._timer(due, "admit", (journey.name, pid), 0)

    def _timeout(self, run: Run, version: int, now: float) -> None:
        if run.done or run.version != version:
            return  # moved on meanwhile (an event, an exit)
        state = self.desk.book.get(run.origin)
        if state is None:
            return
        step = run.journey.steps[run.step]
        if step.event:
            self._advance(run, state.id, now, "timeout", step.timeout_next)
        else:
            self._advance(run, state.id, now, "next", step.next)
        self.walk(run, state, now)

    @staticmethod
    def live(run: Any) -> bool:
        """May the desk still decide this run's ticket? Not once the run has exited."""
        return isinstance(run, Run) and not run.done

    def after_message(self, run: Any, now: float) -> None:
        """The desk decided a message step (sent or suppressed): move on."""
        if not isinstance(run, Run) or run.done:
            return
        run.waiting = ""
        state = self.desk.book.get(run.origin)
        if state is None:
            return
        self._advance(run, state.id, now, "next", run.journey.steps[run.step].next)
        self.walk(run, state, now)

    # ---- walking ---------------------------------------------------------------------------

    def walk(self, run: Run, state: ProfileCard, now: float) -> None:
        """Move the counter until it must wait (a timer, an event, the desk) or ends."""
        journey = run.journey
        while not run.done:
            reason = self._exit_reason(run, state)
            if reason:
                self._exit(run, state.id, now, reason)
                return
            if not run.step:
                self._exit(run, state.id, now, "end")
                return
            step = journey.steps[run.step]
            if step.kind == "exit":
                self._exit(run, state.id, now, step.reason)
                return
            if step.kind == "message":
                self._message(run, step, now)
                return
            if step.kind == "wait":
                self._wait(run, step, state, now)
                return
            label, target = self._choose(run, step, state, now)
            self._advance(run, state.id, now, label, target)

    def _message(self, run: Run, step: Step, now: float) -> None:
        run.waiting = "message"
        self.desk.journey_ticket(run, step.campaign, run.path, now)

    def _wait(self, run: Run, step: Step, state: ProfileCard, now: float) -> None:
        if step.event:
            run.waiting = step.event
            self._timer(now + step.timeout, "wait", run, run.version)
        elif step.until_local is not None:
            due = self.desk.clock.next_local(now, state.timezone, step.until_local)
            self._timer(due, "wait", run, run.version)
        else:
            self._timer(now + step.delay, "wait", run, run.version)

    def _choose(self, run: Run, step: Step, state: ProfileCard, now: float) -> tuple[str, str]:
        """A split's or an experiment's way out for this profile."""
        if step.kind == "experiment":
            point = bucket(f"{run.journey.name}/{step.id}", run.origin)
            edge = 0.0
            for arm in step.paths:
                edge += arm.share
                if point < edge:
                    break
            run.path = arm.name
            return arm.name, arm.next
        if step.on == "last_device":
            kind = ""
            if state.devices:
                kind = max(state.devices.values(), key=lambda d: (d.last_seen, d.id)).type
            if kind in step.cases:
                return kind, step.cases[kind]
            return "default", step.default
        if step.on == "trait":
            hit = trait_matches(state.trait(step.trait), step.value)
        elif step.on == "segment":
            hit = step.rule is not None and holds(step.rule, state, now)
        elif step.on == "random":
            hit = bucket(f"{run.journey.name}/{step.id}", run.origin) < step.percent
        elif step.on in ("opened", "clicked") and step.messages != "any":
            engaged = run.opened if step.on == "opened" else run.clicked
            hit = bool(engaged) if step.messages == "journey" else step.messages in engaged
        else:
            names = SPLIT_EVENTS.get(step.on, (step.event,))
            hit = any(state.last_event.get(n, NEVER) >= run.entered for n in names)
        return ("yes", step.yes) if hit else ("no", step.no)

    @staticmethod
    def _exit_reason(run: Run, state: ProfileCard) -> str:
        journey = run.journey
        since = run.entered
        if journey.exit_on_goal and run.converted:
            return "goal"
        for name in journey.exit:
            if state.last_event.get(name, NEVER) >= since:
                return f"exit:{name}"
        if journey.exit_on_opt_out and state.last_event.get(OPT_OUT, NEVER) >= since:
            return "opt_out"
        return ""

    def _advance(self, run: Run, pid: str, now: float, label: str, target: str) -> None:
        self._row(run, pid, now, "advanced", to=target, label=label)
        run.step = target
        run.since = now
        run.version += 1
        run.waiting = ""

    def _exit(self, run: Run, pid: str, now: float, reason: str) -> None:
        run.done = True
        run.waiting = ""
        self._row(run, pid, now, "exited", label=reason)

    def _row(
        self,
        run: Run,
        pid: str,
        now: float,
        what: str,
        to: str = "",
        label: str = "",
        seconds: float = 0.0,
    ) -> None:
        self.rows.append(
            {
                "journey": run.journey.name,
                "run": run.id,
                "profile_id": pid,
                "at": self.desk.clock.stamp(now),
                "event": what,
                "step": run.step,
                "to": to,
                "label": label,
                "path": run.path,
                "seconds": round(seconds),
            }
        )

    def forget_days(self, now: float) -> None:
        """Daily entries of local days long past are not needed to avoid a second entry."""
        today = int((self.desk.clock.epoch + now) // DAY)
        for key in [k for k, day in self.daily.items() if day < today - 2]:
            del self.daily[key]
