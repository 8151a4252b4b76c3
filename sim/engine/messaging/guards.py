"""Guards: the rules a message must pass before it may leave.

Quiet hours are read on the local clock of the device that would receive the
message (its ``context.timezone``), so 22:00 in Los Angeles is quiet even
when it is morning in UTC. Send-time optimisation waits for the hour this
profile has engaged most (its own app and message opens and clicks, or, when
the profile's history is thin, the hour the workspace's people open the app
most), never inside quiet hours. Frequency caps
count every message the stitched profile got, per channel and across
channels, over a rolling window or the local calendar day.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.engine.messaging.clock import MessageClock
from sim.engine.messaging.config import Caps, QuietHours
from sim.engine.messaging.profiles import ProfileCard

THIN = 5.0  # engagement weight before a profile's own hours are trusted (assumed)


def quiet(quiet_hours: QuietHours, clock: MessageClock, now: float, tz: str) -> bool:
    return quiet_hours.contains(clock.local_minute(now, tz))


def quiet_end(quiet_hours: QuietHours, clock: MessageClock, now: float, tz: str) -> float:
    """The first moment quiet hours are over (``now`` when they are not on)."""
    if not quiet(quiet_hours, clock, now, tz):
        return now
    return clock.next_local(now, tz, quiet_hours.end)


def best_hour(
    state: ProfileCard, workspace: Sequence[float], quiet_hours: QuietHours
) -> int | None:
    """The local hour this profile engages most, outside quiet hours.

    A thin profile borrows the workspace's hours; ``None`` when the workspace
    knows nothing either (the first simulated day, before any roll): nothing to
    optimise on.
    """
    hours = state.hours if sum(state.hours) >= THIN else workspace
    if not any(hours):
        return None
    allowed = [
        h
        for h in range(24)
        if not quiet_hours.contains(h * 60) and not quiet_hours.contains(h * 60 + 59)
    ]
    if not allowed:
        return 12
    return max(allowed, key=lambda h: (hours[h], -h))


def optimised_time(
    state: ProfileCard,
    workspace: Sequence[float],
    quiet_hours: QuietHours,
    clock: MessageClock,
    now: float,
    tz: str,
) -> float:
    """The next start of the profile's best hour (``now`` if we are inside it, or if
    there is no best hour to wait for)."""
    hour = best_hour(state, workspace, quiet_hours)
    if hour is None or clock.local_minute(now, tz) // 60 == hour:
        return now
    return clock.next_local(now, tz, hour * 60)


def over_cap(state: ProfileCard, caps: Caps, channel: str, clock: MessageClock, now: float) -> str:
    """``""`` when a send is allowed, else which cap it would break."""
    if caps.calendar:
        today = clock.local_day(now, state.timezone)
        recent = [(t, c) for t, c, day, _ in state.sends if day == today]
    else:
        recent = [(t, c) for t, c, _, _ in state.sends if now - t < caps.window]
    if len(recent) >= caps.total:
        return "frequency_cap"
    if sum(1 for _, c in recent if c == channel) >= caps.per_channel:
        return "channel_cap"
    return ""
