"""Network and time signals, summarised per profile for the probabilistic rules.

Which networks are public? An address seen on more than ``public_ip_devices``
devices is a carrier NAT, a hotel, an airport or a big office: it never
counts as a home. A device's home is the non-public network it uses most at
home time (local evenings, nights, weekends), a network with a TV or speaker
on it weighing more. Co-presence counts shared (network, three-hour window) pairs, each
worth as many bits of surprise as it is rare: ``log2(devices / devices on
that network in that window)``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from sim.engine.identity.evidence import (
    HOUR_BITS,
    MEETING_WINDOWS,
    SLOT_MINUTES,
    SLOT_WINDOW,
    WINDOW_MINUTES,
    WINDOWS_PER_DAY,
    DeviceEvidence,
)
from sim.engine.identity.scoring import ADJACENT_LIFT, SIMILAR_COSINE, cosine
from sim.engine.identity.state import ProfileState

MAX_CANDIDATES = 64
MAX_BLOCK = 256  # a key shared by more profiles than this says little and costs quadratic time
HOUR_MASK = (1 << HOUR_BITS) - 1
ANCHOR_BOOST = 4


@dataclass
class Summary:
    """What the rules know about one profile: union over its devices."""

    state: ProfileState
    home: int | None
    homes: set[int] = field(default_factory=set)
    ip_hours: set[int] = field(default_factory=set)
    slots: set[int] = field(default_factory=set)
    behaviour: Counter[int] = field(default_factory=Counter)


class Signals:
    """Population-wide statistics (public networks, crowding per window) and pair features."""

    def __init__(
        self,
        devices: dict[str, DeviceEvidence],
        public: set[int],
        household_types: tuple[str, ...] = ("tv", "speaker"),
    ) -> None:
        self.devices = devices
        self.public = public
        self._horizon(devices)
        self.crowd: Counter[int] = Counter()
        for evidence in devices.values():
            self.crowd.update(evidence.meetings(self.since_window))
        self.anchors = {
            ip
            for evidence in devices.values()
            if evidence.device_type in household_types
            for ip in evidence.ips
            if ip not in public
        }
        self.total = max(1, len(devices))

    def _horizon(self, devices: dict[str, DeviceEvidence]) -> None:
        """The period every card still remembers in full: the last two weeks of the trace.

        A card drops slots and meetings older than two weeks before its own
        last event; counting them for one device but not for another would make
        old meetings look rare. So the rules look at the same two weeks for all.
        """
        ranges = [r for r in (e.slot_range() for e in devices.values()) if r is not None]
        latest = max((r[1] for r in ranges), default=0)
        self.since_slot = latest - SLOT_WINDOW + 8  # a card's window starts on a byte
        self.since_window = latest * SLOT_MINUTES // WINDOW_MINUTES - MEETING_WINDOWS + 1
        first = max(self.since_slot, min((r[0] for r in ranges), default=0))
        self.span = max(1, latest - first + 1)

    def device_type(self, device_id: str) -> str:
        evidence = self.devices.get(device_id)
        return evidence.device_type if evidence is not None else "unknown"

    def home_of(self, evidence: DeviceEvidence) -> int | None:
        """The non-public network this device uses most at home time.

        A network where a TV or speaker lives (an anchor) counts ``ANCHOR_BOOST``
        times: those never leave home. A device never seen at home time
        (a kitchen speaker used at dinner) falls back to its busiest network.
        """
        best: tuple[int, int] | None = None
        for ip, count in evidence.home_counts().items():
            if ip in self.public:
                continue
            value = count * (ANCHOR_BOOST if ip in self.anchors else 1)
            if best is None or (value, ip) > best:
                best = (value, ip)
        return best[1] if best is not None else None

    def summarise(self, state: ProfileState) -> Summary:
        """Union the evidence of a profile's devices; home = most-night network overall."""
        summary = Summary(state, None)
        nights: Counter[int] = Counter()
        for device in state.device_ids:
            evidence = self.devices.get(device)
            if evidence is None:
                continue
            home = self.home_of(evidence)
            if home is not None:
                summary.homes.add(home)
                boost = ANCHOR_BOOST if home in self.anchors else 1
                nights[home] += evidence.home_counts()[home] * boost
            summary.ip_hours.update(evidence.meetings(self.since_window))
            summary.slots.update(evidence.slots(self.since_slot))
            summary.behaviour.update(evidence.names())
        if nights:
            summary.home = max(nights.items(), key=lambda item: (item[1], item[0]))[0]
        return summary

    def copresence(self, mine: Summary, other: Summary) -> tuple[float, int, int]:
        """Bits of surprise, networks and (network, day) pairs shared away from home.

        Both seen on one network in one three-hour window is a meeting. Bits are
        counted once per network (its rarest shared window): colleagues share the
        office every working day, which is one piece of evidence, not five.
        """
        best: dict[int, float] = {}
        days: set[int] = set()
        for pair in mine.ip_hours & other.ip_hours:
            ip = pair >> HOUR_BITS
            if ip != mine.home and ip not in other.homes:
                days.add((ip << HOUR_BITS) | ((pair & HOUR_MASK) // WINDOWS_PER_DAY))
                bits = math.log2(self.total / max(1, self.crowd[pair]))
                if bits > best.get(ip, 0.0):
                    best[ip] = bits
        return math.fsum(sorted(best.values())), len(best), len(days)

    def adjacent(self, mine: Summary, other: Summary) -> bool:
        """Whether ``mine``'s active slots sit next to ``other``'s more than chance would.

        Chance is the share of all observed slots within one slot of ``other``'s
        activity: a person online all day is next to everything, which says nothing.
        """
        if not mine.slots or not other.slots:
            return False
        near = sum(
            1
            for s in mine.slots
            if s in other.slots or s - 1 in other.slots or s + 1 in other.slots
        )
        chance = min(1.0, 3 * len(other.slots) / self.span)
        share = near / len(mine.slots)
        return share >= ADJACENT_LIFT * chance and share > 0.0

    def similar(self, mine: Summary, other: Summary) -> bool:
        return cosine(mine.behaviour, other.behaviour) >= SIMILAR_COSINE


class Blocks:
    """Blocking keys of a pool of profiles: who shares a home, a (network, window), a slot.

    As in any record-linkage blocking, a key held by a crowd (a carrier NAT
    address at rush hour, a busy time slot in a city of 100,000) is dropped:
    it would pair everyone with everyone and its agreement carries almost no
    evidence (its Fellegi-Sunter u-probability is near 1).
    """

    def __init__(self, pool: dict[int, Summary]) -> None:
        self.by_home: dict[int, list[int]] = {}
        self.by_ip_hour: dict[int, list[int]] = {}
        self.by_slot: dict[int, list[int]] = {}
        for number, summary in pool.items():
            for home in summary.homes:
                self.by_home.setdefault(home, []).append(number)
            for pair in summary.ip_hours:
                self.by_ip_hour.setdefault(pair, []).append(number)
            for slot in summary.slots:
                self.by_slot.setdefault(slot, []).append(number)
        for blocks in (self.by_home, self.by_ip_hour, self.by_slot):
            crowded = [key for key, members in blocks.items() if len(members) > MAX_BLOCK]
            for key in crowded:
                del blocks[key]

    def candidates(self, mine: Summary, use_time: bool) -> list[int]:
        """Profiles of the pool worth comparing with ``mine`` (most shared keys first)."""
        votes: Counter[int] = Counter()
        if mine.home is not None:
            votes.update(self.by_home.get(mine.home, ()))
        for pair in mine.ip_hours:
            votes.update(self.by_ip_hour.get(pair, ()))
        if use_time:
            for slot in mine.slots:
                votes.update(self.by_slot.get(slot, ()))
        votes.pop(mine.state.number, None)
        return [number for number, _ in votes.most_common(MAX_CANDIDATES)]
