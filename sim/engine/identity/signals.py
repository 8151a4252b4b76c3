"""Network and time signals, summarised per profile for the probabilistic rules.

Which networks are public? An address seen on more than ``public_ip_devices``
devices is a carrier NAT, a hotel, an airport or a big office: it never
counts as a home. Nor does a meeting place: a network whose devices sleep
(have their beds, :func:`bed_of`) on two or more other networks, like a
small office. A device's home is the remaining network it uses most at
home time (local evenings, nights, weekends), a network with a TV or
speaker on it weighing more. Co-presence counts shared (network, three-hour window) pairs, each
worth as many bits of surprise as it is rare: ``log2(devices / devices on
that network in that window)``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import numpy.typing as npt

from sim.engine.identity.evidence import (
    MAX_NAMES,
    MEETING_WINDOWS,
    SLOT_MINUTES,
    SLOT_WINDOW,
    DeviceEvidence,
)
from sim.engine.identity.layout import (
    ADJACENT_STRIDE,
    AGREES,
    DISAGREES,
    HOME_STRIDE,
    LEVEL_STRIDE,
    OFF,
    SIMILAR_STRIDE,
    WINDOW_MINUTES,
    all_events,
    home_events,
    meeting_network,
    network_day,
    pattern_code,
)
from sim.engine.identity.scoring import (
    ADJACENT_LIFT,
    LEVELS,
    SIMILAR_COSINE,
    copresence_level,
)
from sim.engine.identity.state import ProfileState

MAX_CANDIDATES = 64
MAX_BLOCK = 256  # a key shared by more profiles than this says little and costs quadratic time
ANCHOR_BOOST = 4
MEETING_HOMES = 2
NEVER_MET = copresence_level(0.0, 0, 0)


Vector = npt.NDArray[np.int64]
NO_NAMES: Vector = np.zeros(MAX_NAMES, dtype=np.int64)
Rows = npt.NDArray[np.intp]
NO_ROWS: Rows = np.zeros(0, dtype=np.intp)
Codes = npt.NDArray[np.int64]
LEVEL_CODES = {level: code for code, level in enumerate(LEVELS)}
NEVER_MET_CODE = LEVEL_CODES[NEVER_MET]


@dataclass
class Summary:
    """What the rules know about one profile: union over its devices.

    Besides the sets the blocking reads, each summary carries what pair
    scoring needs in ready-made form, computed once per profile instead of
    once per pair: the active slots as one bitmask (``slot_mask``, bit ``i``
    = slot ``since_slot + i``) and that mask widened by a slot each way
    (``near_mask``), so "how many of my slots sit next to yours" is one AND
    and a popcount, with the share of such slots that beats chance
    (``near_bar``); the event-name counts as a vector and its Euclidean norm.
    """

    state: ProfileState
    home: int | None
    homes: set[int] = field(default_factory=set)
    ip_hours: set[int] = field(default_factory=set)
    slots: set[int] = field(default_factory=set)
    behaviour: Counter[int] = field(default_factory=Counter)
    slot_mask: int = 0
    near_mask: int = 0
    active: int = 0
    near_bar: float = 1.0
    """The share of a device's slots next to this profile's that beats chance (adjacency)."""
    vector: Vector = field(default_factory=lambda: NO_NAMES)
    norm: float = 0.0


def meeting_places(
    devices: dict[str, DeviceEvidence],
    public: set[int],
    anchors: set[int],
    beds: dict[int, int | None],
) -> set[int]:
    """Non-public networks where devices of several homes meet: an office, a small shop, a
    carrier address few devices happened to use; none of them is anyone's home.

    A device's *bed* is the non-public network with most of its home-time events
    (evenings, nights, weekends). When the devices seen on network ``n`` have
    their beds on ``MEETING_HOMES`` or more other networks, ``n`` is where
    people from several homes meet. A family's router sees its members sleep
    there (a phone that hops carrier addresses at night is one device, one bed
    elsewhere; a guest is one more); an office sees every colleague's bed. A
    network a TV or speaker lives on (``anchors``) is a home whoever visits.
    ``beds``: :func:`bed_of` each device, by ``id`` of its card.
    """
    users: dict[int, list[DeviceEvidence]] = {}
    for evidence in devices.values():
        for ip in evidence.ips:
            if ip not in public and ip not in anchors:
                users.setdefault(ip, []).append(evidence)
    found: set[int] = set()
    for ip, seen in users.items():
        elsewhere = {beds[id(evidence)] for evidence in seen} - {ip, None}
        if len(elsewhere) >= MEETING_HOMES:
            found.add(ip)
    return found


def bed_of(evidence: DeviceEvidence, public: set[int]) -> int | None:
    """The non-public network with most of a device's home-time events (ties: the larger
    number), ``None`` if it has none there."""
    best: tuple[int, int] | None = None
    for ip, packed in evidence.ips.items():
        nights = home_events(packed)
        if nights and ip not in public and (best is None or (nights, ip) > best):
            best = (nights, ip)
    return best[1] if best is not None else None


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
        self._meetings: dict[str, list[int]] = {}
        for device, evidence in devices.items():
            meetings = self._meetings[device] = evidence.meetings(self.since_window)
            self.crowd.update(meetings)
        self._slots = {
            device: list(evidence.slots(self.since_slot)) for device, evidence in devices.items()
        }
        self.anchors = {
            ip
            for evidence in devices.values()
            if evidence.device_type in household_types
            for ip in evidence.ips
            if ip not in public
        }
        beds = {id(evidence): bed_of(evidence, public) for evidence in devices.values()}
        self.meeting_places = meeting_places(devices, public, self.anchors, beds)
        self.slept_in = {bed for bed in beds.values() if bed is not None}
        """Networks that are some device's bed (:func:`bed_of`)."""
        self.total = max(1, len(devices))
        self._bits: dict[int, float] = {}
        self._homes: dict[str, tuple[int | None, int]] = {}
        self._summaries: dict[int, tuple[tuple[str, ...], Summary]] = {}

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
        """The network, neither public nor a meeting place, this device uses most at home time.

        A network where a TV or speaker lives (an anchor) counts ``ANCHOR_BOOST``
        times: those never leave home. A device never seen at home time on such
        a network (a kitchen speaker used at dinner, a laptop used by day) falls
        back to its busiest one.
        """
        best: tuple[int, int] | None = None
        for ip, count in self.home_counts(evidence).items():
            value = count * (ANCHOR_BOOST if ip in self.anchors else 1)
            if best is None or (value, ip) > best:
                best = (value, ip)
        return best[1] if best is not None else None

    def home_counts(self, evidence: DeviceEvidence) -> dict[int, int]:
        """Events at home time per network that may be a home; all events if none were."""
        allowed = {
            ip: packed
            for ip, packed in evidence.ips.items()
            if ip not in self.public and ip not in self.meeting_places
        }
        nights = {ip: home_events(packed) for ip, packed in allowed.items() if home_events(packed)}
        return nights or {ip: all_events(packed) for ip, packed in allowed.items()}

    def lived_in(self, ip: int) -> bool:
        """Whether network ``ip`` is somebody's bed or a TV's or speaker's room: a household
        can live there. A home only seen by day (a laptop's one address) may be an office."""
        return ip in self.slept_in or ip in self.anchors

    def _home_nights(self, device: str, evidence: DeviceEvidence) -> tuple[int | None, int]:
        """``home_of`` the device and its home-time events there, worked out once per device
        (a profile is summarised again each time its devices change)."""
        known = self._homes.get(device)
        if known is None:
            home = self.home_of(evidence)
            known = self._homes[device] = (
                home,
                0 if home is None else self.home_counts(evidence)[home],
            )
        return known

    # NOTE: memoised _summarise() (about 5% of finalize; benchmarks/RESULTS.md).
    def summarise(self, state: ProfileState) -> Summary:
        """Union the evidence of a profile's devices; home = most-night network overall.

        Remembered per profile while its devices stay the same (the rules
        summarise a never-identified profile up to three times).
        """
        devices = tuple(state.device_ids)
        known = self._summaries.get(state.number)
        if known is not None and known[0] == devices:
            return known[1]
        summary = self._summarise(state)
        self._summaries[state.number] = (devices, summary)
        return summary

    def _summarise(self, state: ProfileState) -> Summary:
        summary = Summary(state, None)
        nights: Counter[int] = Counter()
        mask = 0
        for device in state.device_ids:
            evidence = self.devices.get(device)
            if evidence is None:
                continue
            home, count = self._home_nights(device, evidence)
            if home is not None:
                summary.homes.add(home)
                boost = ANCHOR_BOOST if home in self.anchors else 1
                nights[home] += count * boost
            summary.ip_hours.update(self._meetings[device])
            summary.slots.update(self._slots[device])
            mask |= evidence.slot_mask(self.since_slot)
            summary.behaviour.update(evidence.names())
        if nights:
            summary.home = max(nights.items(), key=lambda item: (item[1], item[0]))[0]
        summary.slot_mask, summary.near_mask = mask, mask | mask << 1 | mask >> 1
        summary.active = mask.bit_count()
        summary.near_bar = ADJACENT_LIFT * min(1.0, 3 * summary.active / self.span)
        _vectorise(summary)
        return summary

    def same_home(self, mine: Summary, others: Sequence[Summary]) -> list[bool | None]:
        """Whether ``mine``'s home is one of each other's homes (``None``: ``mine`` has none)."""
        home = mine.home
        if home is None:
            return [None] * len(others)
        return [home in other.homes for other in others]

    def meetings(self, mine: Summary, others: Sequence[Summary]) -> list[str]:
        """The co-presence level of ``mine`` with each of ``others`` (:func:`copresence_level`).

        Most candidate pairs never shared a (network, window) at all: a
        disjointness test, without building the intersection, settles those.
        """
        ip_hours = mine.ip_hours
        return [
            NEVER_MET
            if ip_hours.isdisjoint(other.ip_hours)
            else copresence_level(*self.copresence(mine, other))
            for other in others
        ]

    def copresence(self, mine: Summary, other: Summary) -> tuple[float, int, int]:
        """Bits of surprise, networks and (network, day) pairs shared away from home.

        Both seen on one network in one three-hour window is a meeting. Bits are
        counted once per network (its rarest shared window): colleagues share the
        office every working day, which is one piece of evidence, not five.
        """
        best: dict[int, float] = {}
        days: set[int] = set()
        for pair in mine.ip_hours & other.ip_hours:
            ip = meeting_network(pair)
            if ip != mine.home and ip not in other.homes:
                days.add(network_day(pair))
                bits = self._bits.get(pair)
                if bits is None:
                    bits = self._bits[pair] = math.log2(self.total / max(1, self.crowd[pair]))
                if bits > best.get(ip, 0.0):
                    best[ip] = bits
        return math.fsum(sorted(best.values())), len(best), len(days)

    def adjacency(self, mine: Summary, others: Sequence[Summary]) -> list[bool]:
        """Whether ``mine``'s active slots sit next to each other's more than chance would.

        Chance is the share of all observed slots within one slot of the other's
        activity: a person online all day is next to everything, which says nothing.
        "Next to" is one AND of bitmasks (``mine`` against the other's widened
        mask) and a popcount.
        """
        if not mine.active:
            return [False] * len(others)
        mask, active = mine.slot_mask, mine.active
        out: list[bool] = []
        for other in others:
            if not other.active:
                out.append(False)
                continue
            share = (mask & other.near_mask).bit_count() / active
            out.append(share >= other.near_bar and share > 0.0)
        return out

    def similar(self, mine: Summary, others: Sequence[Summary]) -> list[bool]:
        """Whether ``mine`` behaves like each of ``others``: event-name cosine >= 0.6.

        One matrix product for all of them; counts are integers, so the dot
        products are exact and each cosine is the float ``dot / (|a| |b|)``.
        """
        if not others:
            return []
        dots = (np.stack([o.vector for o in others]) @ mine.vector).tolist()
        out: list[bool] = []
        for other, dot in zip(others, dots, strict=True):
            norm = mine.norm * other.norm
            cos = dot / norm if norm and mine.behaviour and other.behaviour else 0.0
            out.append(cos >= SIMILAR_COSINE)
        return out

    # NOTE: vectorised same_home/meetings/adjacency/similar (test_identity_signals.py).
    def codes(self, mine: Summary, blocks: Blocks, rows: Rows) -> Codes:
        """The agreement pattern of ``mine`` with each pool row in ``rows``, as numbers.

        Pattern numbers of :data:`~sim.engine.identity.scoring.PATTERNS`, all
        four fields on: the answers of :meth:`same_home`, :meth:`meetings`,
        :meth:`adjacency` and :meth:`similar`, for all rows at once on the
        pool's arrays (:class:`Blocks`). The same floats are compared: a
        share is ``count / active`` and a cosine ``dot / (|a| |b|)``, each one
        correctly rounded division, in numpy as in Python. Only the pairs that
        met (one in ten) go through :meth:`copresence` one by one.
        """
        count = len(rows)
        if not count:
            return np.zeros(0, dtype=np.int64)
        # Start from "different home (or none), never met, not adjacent, not similar"
        # and step each field that agrees to its agreeing place (DISAGREES -> AGREES).
        home = OFF if mine.home is None else DISAGREES
        base = pattern_code(home, NEVER_MET_CODE, DISAGREES, DISAGREES)
        codes: Codes = np.full(count, base, dtype=np.int64)
        agree = DISAGREES - AGREES
        if mine.home is not None:
            codes -= blocks.among(rows, blocks.home_rows.get(mine.home, ())) * HOME_STRIDE * agree
        members, ip_hours = blocks.members, mine.ip_hours
        for i, row in enumerate(rows.tolist()):
            other = members[row]
            if not ip_hours.isdisjoint(other.ip_hours):  # met: one in ten
                met = copresence_level(*self.copresence(mine, other))
                codes[i] += (LEVEL_CODES[met] - NEVER_MET_CODE) * LEVEL_STRIDE
        if mine.active:
            near = np.bitwise_count(blocks.near[rows] & blocks.words(mine.slot_mask)).sum(axis=1)
            share = near / mine.active
            codes -= ((share >= blocks.near_bar[rows]) & (share > 0.0)) * ADJACENT_STRIDE * agree
        if mine.behaviour:
            both = mine.norm * blocks.norms[rows]
            cos = np.divide(blocks.dots(mine, rows), both, out=np.zeros(count), where=both != 0.0)
            codes -= (cos >= SIMILAR_COSINE) * SIMILAR_STRIDE * agree
        return codes


def _vectorise(summary: Summary) -> None:
    """The event-name counts as a vector (name number -> count) and its norm."""
    behaviour = summary.behaviour
    if not behaviour:
        return
    vector = np.zeros(MAX_NAMES, dtype=np.int64)
    vector[list(behaviour)] = list(behaviour.values())
    summary.vector = vector
    summary.norm = math.sqrt(sum(v * v for v in behaviour.values()))


class Blocks:
    """Blocking keys of a pool of profiles: who shares a home, a (network, window), a slot.

    As in any record-linkage blocking, a key held by a crowd (a carrier NAT
    address at rush hour, a busy time slot in a city of 100,000) is dropped:
    it would pair everyone with everyone and its agreement carries almost no
    evidence (its Fellegi-Sunter u-probability is near 1).

    Members are kept as row numbers of the pool (``numbers[row]`` is the
    profile number); a slot's members, the long lists, as a ready-made array.
    """

    def __init__(self, pool: dict[int, Summary]) -> None:
        self.by_home: dict[int, list[int]] = {}
        self.by_ip_hour: dict[int, list[int]] = {}
        by_slot: dict[int, list[int]] = {}
        for row, summary in enumerate(pool.values()):
            for home in summary.homes:
                self.by_home.setdefault(home, []).append(row)
            for pair in summary.ip_hours:
                self.by_ip_hour.setdefault(pair, []).append(row)
            for slot in summary.slots:
                by_slot.setdefault(slot, []).append(row)
        self.members = list(pool.values())
        self.numbers: Rows = np.array(list(pool), dtype=np.intp)
        self.row = {number: row for row, number in enumerate(pool)}
        self.vectors: Vector = np.stack([NO_NAMES, *(s.vector for s in pool.values())])[1:]
        """The pool's name-count vectors, one row each (row of profile ``n``: ``row[n]``)."""
        self.norms = np.array([s.norm if s.behaviour else 0.0 for s in self.members])
        self.near_bar = np.array([s.near_bar for s in self.members])
        words = max(1, -(-max((s.near_mask.bit_length() for s in self.members), default=0) // 64))
        self._width, self._full = 8 * words, (1 << 64 * words) - 1
        self.near = np.frombuffer(
            b"".join(s.near_mask.to_bytes(self._width, "little") for s in self.members),
            dtype="<u8",
        ).reshape(len(self.members), words)
        """The pool's widened slot masks (:attr:`Summary.near_mask`), one row of words each."""
        self.home_rows = dict(self.by_home)
        """Every home's members, crowded ones too (for the home field)."""
        for blocks in (self.by_home, self.by_ip_hour, by_slot):
            crowded = [key for key, members in blocks.items() if len(members) > MAX_BLOCK]
            for key in crowded:
                del blocks[key]
        self.by_slot = {slot: np.array(rows, dtype=np.intp) for slot, rows in by_slot.items()}
        self._scratch = np.zeros(len(self.members), dtype=bool)  # all False between calls

    def candidate_rows(self, mine: Summary, use_time: bool) -> list[int]:
        """The pool rows of the profiles worth comparing with ``mine`` (most shared keys first).

        Each key ``mine`` holds (its home, its (network, window) pairs, then
        its slots, in that order) is a vote for each member. The
        ``MAX_CANDIDATES`` with most votes win; on a tie the one voted for
        first. The votes are counted on the keys' member rows laid end to
        end: a ``bincount``, and each row's first position by ``minimum.at``.
        """
        keys: list[Iterable[int]] = []
        if mine.home is not None:
            keys.append(self.by_home.get(mine.home, ()))
        by_ip_hour = self.by_ip_hour.get
        keys.extend(by_ip_hour(pair, ()) for pair in mine.ip_hours)
        voters = [np.fromiter(chain.from_iterable(keys), dtype=np.intp)]
        if use_time:
            by_slot = self.by_slot.get
            voters.extend(by_slot(slot, NO_ROWS) for slot in mine.slots)
        rows: list[int] = self._most_voted(
            np.concatenate(voters), self.row.get(mine.state.number)
        ).tolist()
        return rows

    # NOTE: Counter.most_common by np.unique (test_identity_signals.py).
    def _most_voted(self, voters: Rows, me: int | None) -> Rows:
        """The most frequent rows in ``voters`` (ties: first seen), ``me`` left out.

        == ``Counter(voters).most_common(MAX_CANDIDATES)`` without ``me``:
        one key per row, votes times ``len + 1`` minus first position, orders
        by votes and then by first position, and is distinct per row. Work
        grows with the votes, not with the pool: finalize asks this once per
        profile, so a pool-sized pass each time would be quadratic.
        """
        rows, first, votes = np.unique(voters, return_index=True, return_counts=True)
        if me is not None:
            keep = rows != me
            rows, first, votes = rows[keep], first[keep], votes[keep]
        key = votes * (len(voters) + 1) - first
        if len(rows) > MAX_CANDIDATES:
            best = np.argpartition(-key, MAX_CANDIDATES - 1)[:MAX_CANDIDATES]
            rows, key = rows[best], key[best]
        return rows[np.argsort(-key, kind="stable")]

    def words(self, mask: int) -> npt.NDArray[np.uint64]:
        """A slot mask as a row of :attr:`near` (bits past the pool's masks dropped)."""
        return np.frombuffer((mask & self._full).to_bytes(self._width, "little"), dtype="<u8")

    def among(self, rows: Rows, members: Iterable[int]) -> npt.NDArray[np.bool_]:
        """Per row of ``rows``: whether it is one of ``members``.

        Marks the members on one pool-sized scratch array, reads the rows and
        wipes the marks: work in proportion to the two lists, not to the pool.
        """
        marks = np.fromiter(members, dtype=np.intp)
        scratch = self._scratch
        scratch[marks] = True
        found: npt.NDArray[np.bool_] = scratch[rows]
        scratch[marks] = False
        return found

    def dots(self, mine: Summary, rows: Rows) -> npt.NDArray[np.float64]:
        """The dot products of ``mine``'s name vector with those of pool ``rows``, exact.

        Counts are integers, so the products are integer matrix products, then floats.
        """
        return (self.vectors[rows] @ mine.vector).astype(float)
