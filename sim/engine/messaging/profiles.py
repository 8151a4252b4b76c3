"""What the messenger remembers about each stitched profile, learned only from events.

A profile card in a filing drawer: which devices it has been seen on (type,
app or browser, time zone, which hours of the day each is used, whether push
was granted), its traits (subscriptions, email, phone), how often it did what,
when it last did anything, which channels it answers on, and every message it
got (for caps). When the identity graph moves a device from one person
profile into another, the two cards are stapled together, so caps and
de-duplication count on the stitched person, not on each device.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.engine.messaging.clock import MessageClock
from sim.engine.messaging.rules import trait_matches
from sim.trace.clock import DAY
from sim.trace.vocabulary import ENGAGEMENT

LABELS_KEPT = 4096  # distinct screen or page names remembered (a site has a few hundred)

OPEN_EVENTS = frozenset({"Application Opened", "page:Home"})
SCREEN_TYPES = frozenset({"phone", "tablet", "laptop"})
SPECIAL = (
    OPEN_EVENTS
    | frozenset(ENGAGEMENT)
    | frozenset(
        {"identify", "Push Permission Changed", "Trip Started", "Trip Ended", "Unsubscribed"}
    )
)
LATE = 3600.0  # an event may reach the engine up to this long after its timestamp (assumed)
DRIVE_SECONDS = 2 * 3600.0  # a trip without its end is assumed over after two hours


@dataclass(frozen=True, slots=True)
class Interest:
    """What the messenger does with an event name beyond the device-and-time bookkeeping."""

    counted: bool  # an audience counts it
    watched: bool  # an exit or goal checks the last time it happened
    learned: bool  # consent, traits, driving, engagement, app opens (``SPECIAL``)
    reactive: bool  # a trigger or a goal: the messenger acts on it
    tallied: bool = False  # an audience rule counts its times (``rules.Did``)


Tallies = dict[str, dict[str, tuple[dict[str, Any], float]]]  # event -> key -> (filter, window)


def interests(
    counted: frozenset[str],
    watched: frozenset[str],
    reactive: frozenset[str],
    tallied: frozenset[str] = frozenset(),
) -> dict[str, Interest]:
    """One look-up per event instead of a set test per role; names not listed need none."""
    names = counted | watched | reactive | SPECIAL | tallied
    return {
        n: Interest(n in counted, n in watched, n in SPECIAL, n in reactive, n in tallied)
        for n in names
    }


def day_hours() -> array[float]:
    """24 hourly weights stored as plain doubles: a fixed size from the first event on
    (a list would hold one float object per hour that has ever been counted)."""
    return array("d", bytes(8 * 24))


@dataclass(slots=True)
class DeviceSeen:
    """One device as its events describe it."""

    id: str
    type: str
    app: bool
    timezone: str = "UTC"
    last_seen: float = -1e18
    push: bool = False
    hours: array[float] = field(default_factory=day_hours)
    locale: str = ""  # context.locale when first seen (messages in the person's language)


@dataclass(slots=True)
class Exposure:
    """A profile assigned to a variant at decision time (sent or held out)."""

    campaign: str
    variant: str
    at: float
    goal: str
    goal_properties: dict[str, Any]
    window: float
    converted: bool = False

    def open(self, now: float) -> bool:
        """Can a goal event still convert it? Not once converted, nor an hour after its
        window closed (the hour lets events that arrive a little late still count)."""
        return not self.converted and now - self.at <= self.window + LATE


@dataclass(slots=True)
class ProfileCard:
    """Everything the messenger knows about one profile."""

    id: str
    devices: dict[str, DeviceSeen] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    last_event: dict[str, float] = field(default_factory=dict)
    last_seen: float = -1e18
    timezone: str = "UTC"
    region: str = ""
    driving_until: float = -1e18
    hours: array[float] = field(default_factory=day_hours)
    engaged: dict[str, float] = field(default_factory=dict)
    sent_by_channel: Counter[str] = field(default_factory=Counter)
    sends: list[tuple[float, str, int, str]] = field(default_factory=list)  # at, channel, day, tag
    entered: dict[str, float] = field(default_factory=dict)
    variants: dict[str, str] = field(default_factory=dict)
    exposures: list[Exposure] = field(default_factory=list)
    opted_out: set[str] = field(default_factory=set)
    history: dict[str, list[float]] = field(default_factory=dict)  # rule key -> sorted times
    member: dict[str, bool] = field(default_factory=dict)  # segment entries: matched last time?
    seen_traits: dict[str, Any] = field(default_factory=dict)  # trait entries: value last seen

    def trait(self, key: str) -> Any:
        if key == "push":
            return any(d.push for d in self.devices.values())
        return self.traits.get(key)

    def driving(self, now: float) -> bool:
        return now < self.driving_until

    def absorb(self, other: ProfileCard) -> None:
        """Staple ``other``'s card onto this one (a merge in the identity graph)."""
        self.devices.update(other.devices)
        self.traits = other.traits | self.traits
        self.counts.update(other.counts)
        for name, at in other.last_event.items():
            self.last_event[name] = max(at, self.last_event.get(name, at))
        self.last_seen = max(self.last_seen, other.last_seen)
        self.driving_until = max(self.driving_until, other.driving_until)
        self.hours = array("d", (a + b for a, b in zip(self.hours, other.hours, strict=True)))
        for channel, weight in other.engaged.items():
            self.engaged[channel] = self.engaged.get(channel, 0.0) + weight
        self.sent_by_channel.update(other.sent_by_channel)
        self.sends = sorted(self.sends + other.sends)
        for name, at in other.entered.items():
            self.entered[name] = min(at, self.entered.get(name, at))
        self.variants = other.variants | self.variants
        self.exposures += other.exposures
        self.opted_out |= other.opted_out
        self.region = self.region or other.region
        for key, times in other.history.items():
            self.history[key] = sorted(self.history.get(key, []) + times)
        for key, was in other.member.items():
            self.member[key] = was or self.member.get(key, False)
        self.seen_traits = other.seen_traits | self.seen_traits


class ProfileBook:
    """All profile cards, keyed by the identity graph's profile ids, with merges followed."""

    def __init__(
        self,
        clock: MessageClock,
        counted: frozenset[str] = frozenset(),
        watched: frozenset[str] = frozenset(),
        reactive: frozenset[str] = frozenset(),
        tallies: Tallies | None = None,
    ) -> None:
        """``counted``: event names whose counts audiences read; ``watched``: names whose
        last time exit and goal checks read; ``reactive``: names the messenger acts on
        (``observe`` hands those back); ``tallies``: names whose times audience rules
        count, per rule key. Other names are not remembered per profile."""
        self.clock = clock
        self.tallies: Tallies = tallies or {}
        self.interest = interests(counted, watched, reactive, frozenset(self.tallies))
        self.states: dict[str, ProfileCard] = {}
        self.alias: dict[str, str] = {}
        self.device_owner: dict[str, str] = {}
        # the send-time fallback decisions read: only days the workspace has rolled over
        self.workspace_hours = [0.0] * 24
        self.learning: dict[int, list[float]] = {}  # scenario day -> weights not rolled yet
        self.merges = 0
        self.on_merge: Callable[[str, str], None] | None = None  # (old id, new id) of a merge
        # device id -> (profile id, card, device) while nothing moved: one look-up per event
        self._cards: dict[str, tuple[str, ProfileCard, DeviceSeen]] = {}
        # screen and page names -> "screen:Name": the same few strings, built once
        self._labels: dict[str, dict[str, str]] = {"screen": {}, "page": {}}

    def resolve(self, profile_id: str) -> str:
        seen = []
        while profile_id in self.alias:
            seen.append(profile_id)
            profile_id = self.alias[profile_id]
        for old in seen[:-1]:
            self.alias[old] = profile_id
        return profile_id

    def get(self, profile_id: str) -> ProfileCard | None:
        return self.states.get(self.resolve(profile_id))

    def state_for(self, profile_id: str, device_id: str) -> ProfileCard:
        """The card for ``profile_id``, stapling the device's previous card onto it."""
        state = self.states.get(profile_id)
        if state is None:
            state = self.states[profile_id] = ProfileCard(profile_id)
            self.alias.pop(profile_id, None)
        if device_id:
            previous = self.device_owner.get(device_id)
            if previous is not None and previous != profile_id:
                self._moved(device_id, self.resolve(previous), state)
            self.device_owner[device_id] = profile_id
        return state

    def _moved(self, device_id: str, previous: str, state: ProfileCard) -> None:
        old = self.states.get(previous)
        if old is None or old is state:
            return
        for moved in (device_id, *old.devices):  # their look-ups would find the old card
            self._cards.pop(moved, None)
        if state.id.startswith("h-") or previous.startswith("h-"):
            seen = old.devices.pop(device_id, None)  # a shared device moved to the household
            if seen is not None:
                state.devices[device_id] = seen
            return
        state.absorb(old)
        del self.states[previous]
        self.alias[previous] = state.id
        self.merges += 1
        if self.on_merge is not None:
            self.on_merge(previous, state.id)

    @staticmethod
    def _device_of(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], Any]:
        """The event's context, its device object and the device id ("" when unusable).

        Shapes are checked, not trusted: the engine's Python API takes events
        that never went through the HTTP validator.
        """
        context = event.get("context")
        if not isinstance(context, dict):
            context = {}
        raw_device = context.get("device")
        if not isinstance(raw_device, dict):
            raw_device = {}
        device_id = raw_device.get("id") or ""
        if not isinstance(device_id, (str, int)):
            device_id = ""
        return context, raw_device, device_id

    def observe(
        self, event: dict[str, Any], profile_id: str
    ) -> tuple[ProfileCard, float, str] | None:
        """Update a card from one event; (card, scenario seconds, event name) when the
        messenger must act on it (a trigger or a goal), else ``None``.

        This runs for every event of the simulation, so it is written flat: the
        device's card comes from one look-up while nothing has moved, and one
        look-up says what else an event name is needed for (usually nothing).
        """
        context, raw_device, device_id = self._device_of(event)
        card = self._cards.get(device_id)
        if card is not None and card[0] == profile_id:
            return self._update(event, context, card[1], card[2])
        state, device = self._card(profile_id, device_id, raw_device, context)
        return self._update(event, context, state, device)

    def _update(
        self,
        event: dict[str, Any],
        context: dict[str, Any],
        state: ProfileCard,
        device: DeviceSeen | None,
    ) -> tuple[ProfileCard, float, str] | None:
        tz = context.get("timezone")
        if type(tz) is not str or not tz:
            tz = state.timezone
        stamp = event.get("timestamp")
        if type(stamp) is not str:
            return None  # no moment to file it under
        try:
            at, hour = self.clock.moment(stamp, tz)
        except ValueError:
            return None
        state.timezone = tz
        if at > state.last_seen:
            state.last_seen = at
        location = context.get("location")
        if location and isinstance(location, dict):
            state.region = location.get("region") or state.region
        kind = event.get("type")
        if kind == "track":
            name = event.get("event") or ""
        elif kind == "screen" or kind == "page":
            label = event.get("name", "")
            names = self._labels[kind]
            known = names.get(label) if type(label) is str else None
            if known is None:
                known = f"{kind}:{label}"
                if len(names) < LABELS_KEPT and type(label) is str:
                    names[label] = known
            name = known
        else:
            name = str(kind)
        if device is not None:
            device.timezone = tz
            device.last_seen = at
            device.hours[hour] += 1.0
        interest = self.interest.get(name)
        if interest is None:
            return None
        if interest.counted:
            state.counts[name] += 1
        if interest.watched:
            state.last_event[name] = at
        if interest.tallied:
            self._tally(state, name, event, at)
        if interest.learned:
            self._learn(state, event, name, at, hour, device)
        return (state, at, name) if interest.reactive else None

    def _tally(self, state: ProfileCard, name: str, event: dict[str, Any], at: float) -> None:
        """File the event's time under every rule key it matches; drop times no window sees."""
        props = event.get("properties")
        if not isinstance(props, dict):
            props = {}
        for key, (wanted, window) in self.tallies[name].items():
            if not all(trait_matches(props.get(k), v) for k, v in wanted.items()):
                continue
            times = state.history.setdefault(key, [])
            insort(times, at)
            horizon = at - window - LATE
            del times[: bisect_left(times, horizon)]

    def _card(
        self,
        profile_id: str,
        device_id: str,
        raw: dict[str, Any],
        context: dict[str, Any],
    ) -> tuple[ProfileCard, DeviceSeen | None]:
        """The card and device of an event the one-look-up path could not answer."""
        state = self.states.get(profile_id)
        if state is None or (device_id and self.device_owner.get(device_id) != profile_id):
            state = self.state_for(profile_id, device_id)
        if not device_id:
            return state, None
        device = state.devices.get(device_id)
        if device is None:
            device = self._device(state, device_id, raw, context)
        self._cards[device_id] = (profile_id, state, device)
        return state, device

    @staticmethod
    def _device(
        state: ProfileCard, device_id: str, raw: dict[str, Any], context: dict[str, Any]
    ) -> DeviceSeen:
        kind = str(raw.get("type") or "phone")
        device = state.devices[device_id] = DeviceSeen(device_id, kind, "app" in context)
        locale = context.get("locale")
        if isinstance(locale, str):
            device.locale = locale
        return device

    def _learn(
        self,
        state: ProfileCard,
        event: dict[str, Any],
        name: str,
        at: float,
        hour: int,
        device: DeviceSeen | None,
    ) -> None:
        props = event.get("properties")
        if not isinstance(props, dict):
            props = {}
        if name in OPEN_EVENTS and device is not None and device.type in SCREEN_TYPES:
            state.hours[hour] += 1.0
            self._teach_workspace(at, hour)
        if name in ENGAGEMENT:  # the profile's own evidence only: see _teach_workspace
            channel, weight = ENGAGEMENT[name]
            state.engaged[channel] = state.engaged.get(channel, 0.0) + weight
            state.hours[hour] += 3.0 * weight
        elif name == "identify":
            traits = event.get("traits")
            self._traits(state, traits if isinstance(traits, dict) else {})
        elif name == "Push Permission Changed" and device is not None:
            was, device.push = device.push, bool(props.get("granted"))
            if was and not device.push:  # a revocation, not a first "no" at install
                state.last_event["opt_out"] = at  # journeys exit on an opt-out
        elif name == "Trip Started":
            state.driving_until = at + DRIVE_SECONDS
        elif name == "Trip Ended":
            state.driving_until = -1e18
        elif name == "Unsubscribed":
            channel = str(props.get("channel", "email"))
            state.traits[f"subscriptions.{channel}"] = False
            state.opted_out.add(channel)
            state.last_event["opt_out"] = at

    def _teach_workspace(self, at: float, hour: int) -> None:
        """Count one session start for the workspace, filed under the event's scenario day
        until it is rolled.

        The workspace's hour is when people use the app (Braze's fallback for thin
        profiles: the workspace's most popular app time, from session starts), so
        only app opens teach it. Message opens would not: they happen when messages
        were sent, and a daily campaign's own send hour would become everybody's
        "best" hour; which hour first won that race was luck of the first day's
        sample, and it then held for the rest of the run.
        """
        day = int(at // DAY)
        learned = self.learning.get(day)
        if learned is None:
            learned = self.learning[day] = [0.0] * 24
        learned[hour] += 1.0

    def learned_through(self, day: int) -> list[float]:
        """What events of scenario days up to ``day`` taught the workspace, not yet rolled."""
        total = [0.0] * 24
        for learned_day in sorted(self.learning):
            if learned_day <= day:
                total = [a + b for a, b in zip(total, self.learning[learned_day], strict=True)]
        return total

    def roll(self, day: int, delta: list[float]) -> None:
        """Close the days up to ``day``: ``delta`` (this process's or every worker's learning
        for them) joins the histogram decisions read, and the local learning is dropped."""
        if len(delta) != 24:
            raise ValueError(f"a workspace delta has 24 hourly weights, not {len(delta)}")
        self.workspace_hours = [
            a + float(b) for a, b in zip(self.workspace_hours, delta, strict=True)
        ]
        for learned_day in [d for d in self.learning if d <= day]:
            del self.learning[learned_day]

    @staticmethod
    def _traits(state: ProfileCard, traits: dict[str, Any]) -> None:
        for key, value in traits.items():
            if isinstance(value, dict):
                for inner, item in value.items():
                    state.traits[f"{key}.{inner}"] = item
            elif key in ("email", "phone"):
                state.traits[key] = bool(value)  # presence only: raw identifiers are not kept
            else:
                state.traits[key] = value
