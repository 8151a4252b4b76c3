"""Circumstantial evidence kept per device for the probabilistic rules.

A detective's card per device: which networks it was seen on and at what
local hour (a home network is where you are at night and at weekends), which ten-minute
slots it was active in (the same person rarely hops devices far apart in
time), which (network, three-hour window) pairs it was seen in (a watch at
the hotel in the same window as its owner's phone), what it looked at (behaviour), and which
accounts logged in on it (two accounts on one device make it shared).
Cards are small and bounded, so a million devices fit in memory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SLOT_MINUTES = 10
WINDOW_MINUTES = 180
"""Co-presence resolution: two devices on one network in the same three-hour window
(a carrier re-draws a phone's NAT address per outing, so a window ~ one outing)."""
WINDOWS_PER_DAY = 24 * 60 // WINDOW_MINUTES
HOUR_BITS = 20
"""A (network, window) pair packs into one int: ``network << HOUR_BITS | window``
(windows since 1970 stay below 2**20 for centuries)."""
COUNT_BITS = 24
"""Per network a device keeps one int: home-time events ``<< COUNT_BITS`` plus all events."""
COUNT_MASK = (1 << COUNT_BITS) - 1
HOME_EVENT = (1 << COUNT_BITS) + 1
MAX_SLOTS = 2048
MAX_SEEN = 1024
MAX_BEHAVIOUR = 64
NIGHT_HOURS = frozenset((20, 21, 22, 23, 0, 1, 2, 3, 4, 5, 6))

_HOURS: dict[str, int] = {}
_OFFSETS: dict[str, int] = {}


def epoch_minute(timestamp: str) -> int | None:
    """Minutes since 1970 for ``2026-11-02T07:13:05.123Z`` (fast path for the trace format)."""
    hour = _HOURS.get(timestamp[:13])
    if hour is None:
        hour = _epoch_hour(timestamp)
        if hour is None:
            return None
    minute = timestamp[14:16]
    if not minute.isdigit():
        return None
    return hour * 60 + int(minute)


def _epoch_hour(timestamp: str) -> int | None:
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    hour = int(moment.timestamp()) // 3600
    if timestamp[10:11] == "T" and timestamp.endswith("Z") and len(_HOURS) < 100_000:
        _HOURS[timestamp[:13]] = hour
    return hour


def utc_offset_minutes(timezone: object) -> int:
    """The zone's offset from UTC (one value per zone; a DST hour does not matter here)."""
    if not isinstance(timezone, str):
        return 0
    offset = _OFFSETS.get(timezone)
    if offset is None:
        try:
            delta = datetime(2026, 1, 15, tzinfo=ZoneInfo(timezone)).utcoffset()
        except (ZoneInfoNotFoundError, ValueError):
            delta = None
        offset = int(delta.total_seconds()) // 60 if delta is not None else 0
        if len(_OFFSETS) < 10_000:
            _OFFSETS[timezone] = offset
    return offset


class DeviceEvidence:
    """Everything the probabilistic rules may know about one device."""

    __slots__ = (
        "anons",
        "behaviour",
        "device_type",
        "events",
        "ip_hours",
        "ips",
        "offset",
        "slots",
        "users",
    )

    def __init__(self, device_type: str) -> None:
        self.device_type = device_type
        self.events = 0
        self.ips: dict[int, int] = {}
        self.slots: set[int] = set()
        self.ip_hours: set[int] = set()
        self.behaviour: dict[str, int] = {}
        self.users: tuple[str, ...] = ()
        self.anons: tuple[str, ...] = ()
        self.offset = 0

    def see(self, ip: int | None, minute: int | None, feature: str | None) -> None:
        """Record one event: network id, time (minutes since 1970, UTC), what it was about."""
        self.events += 1
        if minute is None:
            if ip is not None:
                self.ips[ip] = self.ips.get(ip, 0) + 1
        else:
            slots = self.slots
            if len(slots) < MAX_SLOTS:
                slots.add(minute // SLOT_MINUTES)
            if ip is not None:
                local = minute + self.offset  # home time: local evenings, nights, weekends
                # 1970-01-01 was a Thursday, so (day + 3) % 7 counts from Monday = 0
                if (local // 60) % 24 in NIGHT_HOURS or (local // 1440 + 3) % 7 >= 5:
                    self.ips[ip] = self.ips.get(ip, 0) + HOME_EVENT
                else:
                    self.ips[ip] = self.ips.get(ip, 0) + 1
                if len(self.ip_hours) < MAX_SEEN:
                    self.ip_hours.add(ip << HOUR_BITS | minute // WINDOW_MINUTES)
        if feature is not None:
            behaviour = self.behaviour
            if feature in behaviour:
                behaviour[feature] += 1
            elif len(behaviour) < MAX_BEHAVIOUR:
                behaviour[feature] = 1

    def home_counts(self) -> dict[int, int]:
        """Events per network at home time; all events per network if none were."""
        homes = {
            ip: packed >> COUNT_BITS for ip, packed in self.ips.items() if packed >> COUNT_BITS
        }
        return homes or {ip: packed & COUNT_MASK for ip, packed in self.ips.items()}

    def add_user(self, user_id: str) -> None:
        if user_id not in self.users and len(self.users) < 16:
            self.users = (*self.users, user_id)

    def add_anon(self, anonymous_id: str) -> None:
        if anonymous_id not in self.anons and len(self.anons) < 64:
            self.anons = (*self.anons, anonymous_id)
