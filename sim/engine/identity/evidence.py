"""Circumstantial evidence kept per device for the probabilistic rules.

A detective's card per device: which networks it was seen on and at what
local hour (a home network is where you are at night and at weekends), which ten-minute
slots it was active in (the same person rarely hops devices far apart in
time), which (network, three-hour window) pairs it was seen in (a watch at
the hotel in the same window as its owner's phone), what it looked at (behaviour), which
accounts logged in on it (two accounts on one device make it shared) and how
many events each of them sent (the one behind most of its use), and who made
it (an Apple Watch pairs only with an iPhone).

Every card has a fixed size, whatever the number of simulated days, so memory
stays flat as a run gets longer:

- networks: the ``MAX_NETWORKS`` busiest, with counts (a new address pushes
  out the least used one; a home or office is never the least used);
- active slots: a bitmap of the last ``SLOT_WINDOW`` ten-minute slots (two
  weeks, 252 bytes at most);
- meetings: the (network, three-hour window) pairs of the same two weeks
  (at most ``MAX_MEETINGS``), packed in an array of 64-bit ints
  (:func:`~sim.engine.identity.layout.meeting`);
- behaviour: a count per event name, indexed by the graph-wide name number.

Which devices used an address (for "public" networks) is kept once per
network in :class:`EvidenceBook`, not per device.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sim.engine.identity.layout import (
    HOME_EVENT,
    OTHER_EVENT,
    WINDOW_BITS,
    WINDOW_MINUTES,
    all_events,
    home_events,
    meeting_window,
)

SLOT_MINUTES = 10
SLOT_WINDOW = 14 * 24 * 60 // SLOT_MINUTES
"""Active slots remembered per device: the last two weeks (a multiple of 8)."""
MEETING_WINDOWS = SLOT_WINDOW * SLOT_MINUTES // WINDOW_MINUTES
"""Meetings remembered per device: the same two weeks as the slots."""
MAX_NETWORKS = 8
MAX_MEETINGS = 256
"""A hard cap on top of the two weeks (eight windows a day on one network each is 112)."""
MAX_NAMES = 128
"""Distinct event names the graph numbers; later ones are not compared."""
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


def home_time(local_minute: int) -> bool:
    """Whether a local time (minutes since 1970 in the device's zone) is evening, night or weekend.

    1970-01-01 was a Thursday, so ``(day + 3) % 7`` counts from Monday = 0.
    """
    return (local_minute // 60) % 24 in NIGHT_HOURS or (local_minute // 1440 + 3) % 7 >= 5


class EvidenceBook:
    """What all cards refer to: numbered networks and event names, and who used each network.

    A network's users are listed until there are more than ``public_ip_devices``
    of them; then it is public for good and the list is dropped (``None``).
    """

    def __init__(self, public_ip_devices: int) -> None:
        self.limit = public_ip_devices
        self.networks: dict[str, int] = {}
        """Each IP address seen, numbered in order of first sight."""
        self.users: dict[int, tuple[DeviceEvidence, ...] | None] = {}
        self.names: dict[str, int] = {}

    def network(self, ip: str) -> int:
        """The number of address ``ip`` (numbered on first sight)."""
        number = self.networks.get(ip)
        if number is None:
            number = self.networks[ip] = len(self.networks)
        return number

    def name(self, feature: str) -> int | None:
        """The number of event name ``feature`` (``None`` past ``MAX_NAMES`` names)."""
        number = self.names.get(feature)
        if number is None and len(self.names) < MAX_NAMES:
            number = self.names[feature] = len(self.names)
        return number

    def seen_on(self, network: int, device: DeviceEvidence) -> None:
        users = self.users.get(network, ())
        if users is None or device in users:
            return
        self.users[network] = None if len(users) >= self.limit else (*users, device)

    def public(self) -> set[int]:
        """Networks seen on more than ``public_ip_devices`` devices."""
        return {n for n, users in self.users.items() if users is None}


class DeviceEvidence:
    """Everything the probabilistic rules may know about one device, in fixed space."""

    __slots__ = (
        "anons",
        "behaviour",
        "book",
        "device_type",
        "events",
        "ip_hours",
        "ips",
        "maker",
        "offset",
        "slot_base",
        "slot_bits",
        "user_events",
        "users",
    )

    def __init__(self, device_type: str, book: EvidenceBook, maker: str = "") -> None:
        self.device_type = device_type
        self.maker = maker
        """``context.device.manufacturer`` of the device's first event (an Apple Watch pairs
        only with an iPhone); empty when not sent."""
        self.book = book
        self.events = 0
        self.ips: dict[int, int] = {}
        self.slot_base = 0
        self.slot_bits = bytearray()
        self.ip_hours = array("q")
        self.behaviour = array("I")
        self.users: tuple[str, ...] = ()
        self.user_events: dict[str, int] = {}
        """Events sent under each of ``users`` (the account behind most of the use)."""
        self.anons: tuple[str, ...] = ()
        self.offset = 0

    def see(self, ip: int | None, minute: int | None, feature: str | None) -> None:
        """Record one event: network id, time (minutes since 1970, UTC), what it was about."""
        self.events += 1
        if minute is not None:
            # NOTE: inlined _slot() for a slot inside the window (per event).
            offset = minute // SLOT_MINUTES - self.slot_base
            bits = self.slot_bits
            if bits and 0 <= offset < len(bits) << 3:
                bits[offset >> 3] |= 1 << (offset & 7)
            else:
                self._slot(minute // SLOT_MINUTES)
        if ip is not None:
            # NOTE: inlined layout.counted() (per event).
            step = OTHER_EVENT
            if minute is not None:
                local = minute + self.offset
                # NOTE: inlined home_time(local) (per event).
                if (local // 60) % 24 in NIGHT_HOURS or (local // 1440 + 3) % 7 >= 5:
                    step = HOME_EVENT
                window = minute // WINDOW_MINUTES
                pair = ip << WINDOW_BITS | window  # NOTE: inlined layout.meeting() (per event).
                meetings = self.ip_hours
                if not meetings or meetings[-1] != pair:
                    self._meet(pair, window)
            packed = self.ips.get(ip)
            self.ips[ip] = (self._new_network(ip) if packed is None else packed) + step
        if feature is not None:
            number = self.book.names.get(feature)
            vector = self.behaviour
            if number is not None and number < len(vector):
                vector[number] += 1
            else:
                self._behave(feature)

    def _slot(self, slot: int) -> None:
        """Set the slot's bit, sliding the two-week window forward when needed."""
        bits = self.slot_bits
        if not bits:
            self.slot_base = slot - slot % 8
        offset = slot - self.slot_base
        if offset < 0:  # out of order: room before the window if it still fits
            grow = (7 - offset) // 8
            if len(bits) + grow > SLOT_WINDOW // 8:
                return
            bits[0:0] = bytes(grow)
            self.slot_base -= 8 * grow
            offset += 8 * grow
        byte = offset >> 3
        if byte >= len(bits):
            drop = byte + 1 - SLOT_WINDOW // 8
            if drop > 0:
                del bits[:drop]
                self.slot_base += 8 * drop
                byte -= drop
            bits.extend(bytes(byte + 1 - len(bits)))
        bits[byte] |= 1 << (offset & 7)

    def _meet(self, pair: int, window: int) -> None:
        """Remember a (network, window) pair; pairs older than two weeks go."""
        meetings = self.ip_hours
        if (meetings and meetings[-1] == pair) or pair in meetings:
            return
        oldest = window - MEETING_WINDOWS
        while meetings and (meeting_window(meetings[0]) <= oldest or len(meetings) >= MAX_MEETINGS):
            del meetings[0]
        meetings.append(pair)

    def meetings(self, since: int) -> list[int]:
        """The (network, window) pairs from window ``since`` on."""
        return [pair for pair in self.ip_hours if meeting_window(pair) >= since]

    def _new_network(self, ip: int) -> int:
        """Make room for a network: the least used one (the oldest of those) goes."""
        ips = self.ips
        if len(ips) >= MAX_NETWORKS:
            del ips[min(ips, key=lambda known: all_events(ips[known]))]
        self.book.seen_on(ip, self)
        return 0

    def _behave(self, feature: str) -> None:
        number = self.book.name(feature)
        if number is None:
            return
        vector = self.behaviour
        if number >= len(vector):
            vector.frombytes(bytes(vector.itemsize * (number + 1 - len(vector))))
        vector[number] += 1

    def slots(self, since: int = 0) -> Iterator[int]:
        """The active ten-minute slots (since 1970) from slot ``since`` on, oldest first."""
        base = self.slot_base
        for byte, value in enumerate(self.slot_bits):
            while value:
                low = value & -value
                slot = base + 8 * byte + low.bit_length() - 1
                if slot >= since:
                    yield slot
                value ^= low

    def slot_mask(self, since: int) -> int:
        """The active slots from slot ``since`` on as one int: bit ``i`` = slot ``since + i``."""
        value = int.from_bytes(self.slot_bits, "little")
        shift = self.slot_base - since
        return value << shift if shift >= 0 else value >> -shift

    def slot_range(self) -> tuple[int, int] | None:
        """The first and last active slot, if any."""
        bits = self.slot_bits
        last_byte = len(bits.rstrip(b"\0")) - 1  # the empty bytes found in C, not one by one
        if last_byte < 0:
            return None
        first_byte = len(bits) - len(bits.lstrip(b"\0"))
        low = bits[first_byte] & -bits[first_byte]
        first = self.slot_base + 8 * first_byte + low.bit_length() - 1
        return first, self.slot_base + 8 * last_byte + bits[last_byte].bit_length() - 1

    def names(self) -> dict[int, int]:
        """Event counts by name number (names never seen here are left out)."""
        return {number: count for number, count in enumerate(self.behaviour) if count}

    def home_counts(self) -> dict[int, int]:
        """Events per network at home time; all events per network if none were."""
        homes = {ip: home_events(packed) for ip, packed in self.ips.items() if home_events(packed)}
        return homes or {ip: all_events(packed) for ip, packed in self.ips.items()}

    def add_user(self, user_id: str) -> None:
        if user_id not in self.users and len(self.users) < 16:
            self.users = (*self.users, user_id)
            self.user_events[user_id] = 0

    def used_by(self, user_id: object) -> None:
        """Count one event sent under ``user_id`` (only accounts in ``users`` are counted)."""
        counts = self.user_events
        if type(user_id) is str and user_id in counts:
            counts[user_id] += 1

    def main_user(self) -> str | None:
        """The account behind most of this device's events (ties: the first to log in)."""
        if not self.users:
            return None
        return max(self.users, key=lambda user: self.user_events.get(user, 0))

    def add_anon(self, anonymous_id: str) -> None:
        if anonymous_id not in self.anons and len(self.anons) < 64:
            self.anons = (*self.anons, anonymous_id)
