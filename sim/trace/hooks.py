"""Event hooks: how layers talk without calling across each other.

Like Locust's ``events``: whoever fires a hook declares it as a typed,
documented attribute (the world's hooks are listed on
:class:`sim.world.world.World`), and whoever cares adds a listener: the
trace writer, the engine, a progress bar. Adding a collector never means
editing the one that fires. The hook type lives here, on the ground floor,
so any layer may fire hooks without importing the layers that listen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

Listener = TypeVar("Listener", bound=Callable[..., Any])


class EventHook(Generic[Listener]):
    """Listeners of one kind, called in registration order with keyword arguments.

    ``Listener`` is the listener's signature (a Protocol in the layer that
    fires the hook), so mypy checks every ``add_listener`` against it.
    """

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> Listener:
        self._listeners.append(listener)
        return listener

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def fire(self, **kwargs: Any) -> None:
        for listener in self._listeners:
            listener(**kwargs)

    def __len__(self) -> int:
        return len(self._listeners)
