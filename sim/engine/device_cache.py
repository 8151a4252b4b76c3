"""Each device's last profile answer, kept while nothing that could change it has.

A device sends the same identifiers event after event, and the identity graph
answers "whose is it?" the same way until it merges something. So the answer
is pinned to the device with the graph's ``epoch`` and the (userId,
anonymousId) it was asked for; while all three match, the pin stands and the
graph is not asked again (one dict look-up, no identifier list to build).
Any merge, and ``finalize`` (which may move devices to households), changes
the epoch, and each device is asked once more on its next event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

E = TypeVar("E", bound=Mapping[str, object])


class DeviceAnswers:
    """The pins: device id -> (epoch, userId, anonymousId, profile id)."""

    def __init__(self) -> None:
        self._pins: dict[str, tuple[int, object, object, str]] = {}

    def profile_id(self, event: E, epoch: int, resolve: Callable[[E], str | None]) -> str | None:
        """``resolve(event)``, or the device's pinned answer when it must be the same."""
        # NOTE: speed trick; equals resolve(event) (tests/engine/test_engine_cache.py).
        context = event.get("context")
        device = context.get("device") if isinstance(context, dict) else None
        device_id = device.get("id") if isinstance(device, dict) else None
        if not isinstance(device_id, str):
            return resolve(event)
        user, anonymous = event.get("userId"), event.get("anonymousId")
        pinned = self._pins.get(device_id)
        if pinned is not None and pinned[:3] == (epoch, user, anonymous):
            return pinned[3]
        found = resolve(event)
        if found is not None:
            self._pins[device_id] = (epoch, user, anonymous, found)
        return found
