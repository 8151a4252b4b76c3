"""The world's tally sheet: what people did, counted as it happens, for the realism table.

A pick-up of a device, a brand session and how long it ran, an order and the
device it was placed on, a cart that was never bought, a TV sitting and the
screens picked up during it, a message opened or clicked on an iPhone: each is
a tick on this sheet. The sheet holds counts only (plus one count per person
for heavy and light users), so sheets from several workers add up key by key
(``sim.runner.merge_counts``) and ``sim.analysis.realism`` turns the sums into
figures. Nothing here is a knob; everything is an outcome.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sim.world.devices import Device
from sim.world.people import Person
from sim.world.platform_data import load_platforms

PERSONAL_SCREENS = ("phone", "tablet", "laptop", "watch", "car")
HOUR_KEYS = tuple(f"{hour:02d}" for hour in range(24))  # an hour's key in the tallies: "07"


def platform_of(device: Device) -> str:
    """``ios``, ``android`` or ``other``: where push and watch odds differ by platform.

    One definition with the platform draw: the ``[ecosystems]`` lists of
    ``data/platforms.toml`` (an os in neither, a Fire tablet or a TV, is other).
    """
    return load_platforms().ecosystem(device.spec.os) or "other"


@dataclass
class UseDays:
    """Each person's own (not shared) devices used per local day: the switch-rate tally."""

    open: dict[str, tuple[int, set[str]]] = field(default_factory=dict)
    days: Counter[str] = field(default_factory=Counter)
    switched: Counter[str] = field(default_factory=Counter)

    def note(self, person_id: str, day: int, device_id: str) -> None:
        current = self.open.get(person_id)
        if current is None or current[0] != day:
            if current is not None:
                self._close(current)
            current = self.open[person_id] = (day, set())
        current[1].add(device_id)

    def _close(self, entry: tuple[int, set[str]]) -> None:
        day, used = entry
        self.days[str(day)] += 1
        self.switched[str(day)] += len(used) >= 2

    def close_all(self) -> None:
        for person_id in sorted(self.open):
            self._close(self.open[person_id])
        self.open.clear()


@dataclass
class Outcomes:
    """Counts of what happened in one world (one shard of a run)."""

    use_by_hour: Counter[str] = field(default_factory=Counter)  # "phone@07" local hour
    audio_by_hour: Counter[str] = field(default_factory=Counter)  # speaker audio seconds, "07"
    audio_plays: int = 0  # listening spells begun (started in any hour)
    phone_eastern_hour: Counter[str] = field(default_factory=Counter)  # US/CA phones, New York hour
    asleep_at_3: Counter[str] = field(default_factory=Counter)  # US 15+ at 3 a.m.: seen, asleep
    sessions: Counter[str] = field(default_factory=Counter)  # brand sessions by device type
    app_sessions: Counter[str] = field(default_factory=Counter)  # per person, in the brand's app
    person_sessions: Counter[str] = field(default_factory=Counter)  # per person, any brand session
    app_ms: int = 0
    app_ms_squares: int = 0  # sum of squared milliseconds: the spread of session lengths
    app_timed: int = 0
    orders: Counter[str] = field(default_factory=Counter)  # by device type of the order
    carts: Counter[str] = field(default_factory=Counter)  # by the day the cart was started
    carts_bought: Counter[str] = field(default_factory=Counter)  # same key, carts later bought
    tv_sittings: int = 0
    tv_with: Counter[str] = field(default_factory=Counter)  # "any", "phone", "tablet", "laptop"
    messages: Counter[str] = field(default_factory=Counter)  # "push/ios/delivered" ...
    use_days: UseDays = field(default_factory=UseDays)
    owners: dict[str, bool] = field(default_factory=dict)

    def picked_up(self, person: Person, device: Device, day: int, hour: int) -> None:
        self.use_by_hour[f"{device.type}@{HOUR_KEYS[hour]}"] += 1
        if not device.shared and device.type in PERSONAL_SCREENS and self._several(person):
            self.use_days.note(person.id, day, device.id)

    def _several(self, person: Person) -> bool:
        """Does the person own two or more personal devices (the switch-rate population)?"""
        known = self.owners.get(person.id)
        if known is None:
            personal = [d for d in person.devices if not d.shared]
            known = self.owners[person.id] = len(personal) >= 2
        return known

    def brand_session(self, person_id: str, kind: str, app: bool) -> None:
        self.sessions[kind] += 1
        self.person_sessions[person_id] += 1
        if app and kind in ("phone", "tablet"):
            self.app_sessions[person_id] += 1

    def audio(self, hour: int, seconds: float) -> None:
        """Seconds of speaker audio in one local hour (whole seconds: sums stay exact)."""
        self.audio_by_hour[HOUR_KEYS[hour]] += round(seconds)

    def cart_started(self, day: int) -> None:
        self.carts[str(day)] += 1

    def cart_bought(self, started: int) -> None:
        self.carts_bought[str(started)] += 1

    def timed(self, seconds: float) -> None:
        ms = int(seconds * 1000.0)
        self.app_ms += ms
        self.app_ms_squares += ms * ms
        self.app_timed += 1

    def sitting(self, screens: set[str]) -> None:
        self.tv_sittings += 1
        if screens:
            self.tv_with["any"] += 1
        for kind in screens:
            self.tv_with[kind] += 1

    def message(self, channel: str, device: Device, what: str) -> None:
        self.messages[f"{channel}/{platform_of(device)}/{what}"] += 1

    def counts(self) -> dict[str, Any]:
        """Everything as numbers and string-keyed tables, ready to be added across shards."""
        self.use_days.close_all()
        return {
            "use_by_hour": dict(self.use_by_hour),
            "audio_by_hour": dict(self.audio_by_hour),
            "audio_plays": self.audio_plays,
            "phone_eastern_hour": dict(self.phone_eastern_hour),
            "asleep_at_3": dict(self.asleep_at_3),
            "sessions": dict(self.sessions),
            "app_sessions": dict(self.app_sessions),
            "person_sessions": dict(self.person_sessions),
            "app_ms": self.app_ms,
            "app_ms_squares": self.app_ms_squares,
            "app_timed": self.app_timed,
            "orders": dict(self.orders),
            "carts": dict(self.carts),
            "carts_bought": dict(self.carts_bought),
            "tv_sittings": self.tv_sittings,
            "tv_with": dict(self.tv_with),
            "messages": dict(self.messages),
            "switch_days": dict(self.use_days.days),
            "switched_days": dict(self.use_days.switched),
        }
