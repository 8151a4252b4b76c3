"""The trace's own arrival rate as a load shape, for Locust's closed model.

The open-model replay (``locustfile.py``) needs no shape: the schedule *is*
the load. Users who prefer Locust's closed model (N users in a loop) can let
the user count follow the simulated day instead: :class:`ArrivalShape` turns
events due per second of replay into a user count, given how many events one
user sends per second. ``examples/locustfile_closed.py`` binds it to a LoadTestShape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ArrivalShape:
    """``tick(run_time)`` -> ``(users, spawn_rate)`` or ``None`` when the day is over."""

    rate: Sequence[int]  # events due in each bin of replay time
    events_per_user_second: float
    bin_seconds: float = 1.0
    min_users: int = 1
    max_users: int = 1000
    smoothing_bins: int = 5  # moving average: one busy second should not spawn a crowd

    def users_at(self, run_time: float) -> int | None:
        index = int(run_time / self.bin_seconds)
        if index >= len(self.rate):
            return None
        lo = max(0, index - self.smoothing_bins // 2)
        window = self.rate[lo : lo + self.smoothing_bins] or [0]
        per_second = sum(window) / len(window) / self.bin_seconds
        users = math.ceil(per_second / self.events_per_user_second)
        return max(self.min_users, min(self.max_users, users))

    def tick(self, run_time: float) -> tuple[int, float] | None:
        users = self.users_at(run_time)
        if users is None:
            return None
        return users, float(max(1, users))  # reach the target within a second
