"""Channel and device choice: which door to knock on, and on which device.

Each channel lands on certain kinds of device (a push on a phone or tablet,
a banner on the TV, a voice on the speaker or in the car). A channel is open
only with consent the events recorded: push granted on that device, an email
subscription, an SMS subscription with a phone number, an app present for
in-app, TV, speaker and car. Among open channels the profile's best-engaged
one wins (smoothed opens per send), falling back to the campaign's order when
the history is thin. Within a channel one device is chosen: the one most
likely seen now (used at this hour of day, seen recently). While the profile
is driving, nothing visual goes out; car audio is the only way in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.engine.messaging.clock import MessageClock
from sim.engine.messaging.profiles import DeviceSeen, ProfileCard

CHANNEL_DEVICES: dict[str, tuple[str, ...]] = {
    "push": ("phone", "tablet"),
    "watch": ("watch",),
    "email": ("laptop", "phone", "tablet"),
    "in_app": ("phone", "tablet", "laptop"),
    "sms": ("phone",),
    "tv_banner": ("tv",),
    "speaker_voice": ("speaker",),
    "car_audio": ("car",),
}
VISUAL = frozenset({"push", "watch", "in_app", "sms", "tv_banner"})
THIN_HISTORY = 3  # sends on a profile before its engagement is trusted (assumed)
RECENT = 1800.0  # seen within half an hour: probably at hand


@dataclass(frozen=True)
class Choice:
    channel: str
    device: DeviceSeen
    others: tuple[DeviceSeen, ...]  # consenting devices of the same channel, de-duplicated


def consented(state: ProfileCard, channel: str, device: DeviceSeen, now: float) -> bool:
    """Consent per channel, as recorded by events (never by ground truth)."""
    if channel in state.opted_out:
        return False
    if channel in ("push", "watch"):
        return device.push
    if channel == "email":
        return bool(state.traits.get("email")) and state.traits.get("subscriptions.email") is True
    if channel == "sms":
        return bool(state.traits.get("phone")) and state.traits.get("subscriptions.sms") is True
    if channel == "in_app":
        return device.app and now - device.last_seen < 7 * 86_400.0
    return device.app  # tv, speaker and car surfaces need the app/skill installed


def ranked(state: ProfileCard, channels: tuple[str, ...], policy: str) -> list[str]:
    """Channels best-engaged first; the campaign's order when history is thin."""
    if policy == "ordered" or sum(state.sent_by_channel.values()) < THIN_HISTORY:
        return list(channels)

    def score(channel: str) -> float:
        return (state.engaged.get(channel, 0.0) + 1.0) / (state.sent_by_channel[channel] + 2.0)

    return sorted(channels, key=lambda c: -score(c))  # stable: ties keep campaign order


def likelihood(device: DeviceSeen, clock: MessageClock, now: float) -> float:
    """How likely the device is in hand now: its use at this local hour, and recency."""
    hour = clock.local_minute(now, device.timezone) // 60
    usage = device.hours[hour] / (1.0 + sum(device.hours) / 24.0)
    return usage + (3.0 if now - device.last_seen < RECENT else 0.0)


def choose(
    state: ProfileCard,
    channels: tuple[str, ...],
    policy: str,
    clock: MessageClock,
    now: float,
) -> Choice | None:
    driving = state.driving(now)
    for channel in ranked(state, channels, policy):
        if driving and channel in VISUAL:
            continue
        kinds = CHANNEL_DEVICES[channel]
        devices = [
            d
            for d in state.devices.values()
            if d.type in kinds and consented(state, channel, d, now)
        ]
        if not devices:
            continue
        devices.sort(key=lambda d: (-likelihood(d, clock, now), -d.last_seen, d.id))
        return Choice(channel, devices[0], tuple(devices[1:]))
    return None
