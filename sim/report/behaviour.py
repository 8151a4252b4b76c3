"""Tables of behaviour drawn from sessions: switches, journeys, attribution."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from sim.engine.messaging.clock import zone
from sim.report.sessions import Session

DEVICE_ORDER = ("phone", "tablet", "laptop", "watch", "car", "tv", "speaker")
ATTRIBUTION_WINDOW_S = 7 * 24 * 3600


@dataclass(frozen=True)
class SwitchMatrix:
    """``counts[i, j]``: sessions on ``types[i]`` followed by another device of ``types[j]``."""

    types: list[str]
    counts: npt.NDArray[np.int64]


@dataclass(frozen=True)
class DayShare:
    date: str
    people: int
    switchers: int

    @property
    def share(self) -> float:
        return self.switchers / self.people if self.people else 0.0


@dataclass(frozen=True)
class PathShare:
    """A trail of steps that ended in an order: how many orders took it, and their share."""

    steps: tuple[str, ...]
    count: int
    share: float


@dataclass(frozen=True)
class ChannelCredit:
    channel: str
    orders: int
    revenue: float


def local_time(at: float, timezone: str) -> datetime:
    return datetime.fromtimestamp(at, zone(timezone))


def by_person(sessions: Iterable[Session]) -> dict[str, list[Session]]:
    """Sessions grouped per true person, each list in time order."""
    groups: dict[str, list[Session]] = defaultdict(list)
    for session in sorted(sessions, key=lambda s: s.start):
        groups[session.person_id].append(session)
    return dict(groups)


def ordered_types(present: Iterable[str]) -> list[str]:
    seen = set(present)
    known = [name for name in DEVICE_ORDER if name in seen]
    return known + sorted(seen - set(DEVICE_ORDER))


def switch_matrix(sessions: list[Session]) -> SwitchMatrix:
    pairs: Counter[tuple[str, str]] = Counter()
    for history in by_person(sessions).values():
        for before, after in pairwise(history):
            if before.device_id != after.device_id:
                pairs[(before.device_type, after.device_type)] += 1
    types = ordered_types(name for pair in pairs for name in pair)
    index = {name: i for i, name in enumerate(types)}
    counts = np.zeros((len(types), len(types)), dtype=np.int64)
    for (source, target), count in pairs.items():
        counts[index[source], index[target]] = count
    return SwitchMatrix(types, counts)


def touchpoint(session: Session) -> str:
    if session.channel == "direct":
        return session.device_type
    return f"{session.device_type} · {session.channel}"


def journeys_to_purchase(
    sessions: list[Session], top: int = 3, max_steps: int = 6
) -> list[PathShare]:
    """The most common touchpoint sequences ending in a session with an order."""
    paths: Counter[tuple[str, ...]] = Counter()
    for history in by_person(sessions).values():
        steps: list[str] = []
        for session in history:
            label = touchpoint(session)
            if not steps or steps[-1] != label:
                steps.append(label)
            if session.orders:
                paths[tuple(steps[-max_steps:])] += 1
                steps = []
    total = sum(paths.values())
    return [PathShare(path, count, count / total) for path, count in paths.most_common(top)]


def attribution(sessions: list[Session]) -> list[ChannelCredit]:
    """Orders per channel, last non-direct touch within seven days, most first."""
    orders: Counter[str] = Counter()
    revenue: dict[str, float] = defaultdict(float)
    for history in by_person(sessions).values():
        last: tuple[str, float] | None = None
        for session in history:
            if session.channel != "direct":
                last = (session.channel, session.start)
            if not session.orders:
                continue
            fresh = last is not None and session.start - last[1] <= ATTRIBUTION_WINDOW_S
            channel = last[0] if fresh and last is not None else "direct"
            orders[channel] += session.orders
            revenue[channel] += session.revenue
    ranked = sorted(orders, key=lambda name: (-orders[name], name))
    return [ChannelCredit(name, orders[name], revenue[name]) for name in ranked]
