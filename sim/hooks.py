"""Event hooks: how layers talk without calling across each other.

Like Locust's ``events``: the world fires ``event_emitted`` for each Segment
event, and whoever cares (the trace writer, the engine, a progress bar)
listens. Adding a collector never means editing the world.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class EventHook:
    """A list of listeners called in registration order."""

    def __init__(self) -> None:
        self._listeners: list[Callable[..., Any]] = []

    def add_listener(self, listener: Callable[..., Any]) -> Callable[..., Any]:
        self._listeners.append(listener)
        return listener

    def remove_listener(self, listener: Callable[..., Any]) -> None:
        self._listeners.remove(listener)

    def fire(self, **kwargs: Any) -> None:
        for listener in self._listeners:
            listener(**kwargs)

    def __len__(self) -> int:
        return len(self._listeners)
