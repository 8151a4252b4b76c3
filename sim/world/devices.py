"""Devices: the phones, tablets, laptops, watches, cars, TVs and speakers people use.

Each device is a radio with a name tag: an SDK install id (``anonymousId``)
it stamps on every event, an id for the hardware, an OS and an app version.
A browser loses its cookie now and then (Safari caps script-set cookies at
seven days), so a web device may wear several anonymous ids over a week. What
the device never says is who is holding it: that stays in the truth file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.trace.events import LIBRARY, EventContext
from sim.world.persona import DeviceSpec

APP_NAME = "Shopwise"
APP_VERSION = "4.2.0"
APP_BUILD = "420"


def hex_id(rng: np.random.Generator, length: int) -> str:
    """``length`` hex digits: ``(length + 1) // 2`` random bytes, each written as two digits."""
    # NOTE: bytes.hex() of the drawn bytes, not one format per byte (test_speed_tricks.py).
    draws = rng.integers(0, 256, size=(length + 1) // 2)
    return draws.astype(np.uint8).tobytes().hex()[:length]


def hex_ids(rng: np.random.Generator, *lengths: int) -> list[str]:
    """``[hex_id(rng, n) for n in lengths]``: the same digits, drawn in one call."""
    # NOTE: the plain reference NumpyDraws.hex_ids is held to (test_build_speed.py), one call.
    sizes = [(n + 1) // 2 for n in lengths]
    digits = rng.integers(0, 256, size=sum(sizes)).astype(np.uint8).tobytes().hex()
    ids, at = [], 0
    for length, size in zip(lengths, sizes, strict=True):
        ids.append(digits[at : at + length])
        at += 2 * size
    return ids


def uuid_like(rng: np.random.Generator) -> str:
    return uuid_of(hex_id(rng, 32))


def uuid_of(h: str) -> str:
    """32 hex digits written as a version-4 UUID."""
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


@dataclass
class Device:
    """One simulated device; mutable state is what its SDK would remember."""

    id: str
    spec: DeviceSpec
    household_id: str
    owner_id: str | None
    anonymous_id: str
    locale: str
    timezone: str
    will_log_in: bool
    path: str = "direct"  # how it reaches the brand: direct, tethered/cellular (watch), projection/embedded (car)
    relay: Device | None = None  # the paired phone a watch tethers to or a car projects
    carrier: int = 0  # the carrier of an embedded car modem
    anonymous_ids: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    used_by: list[str] = field(default_factory=list)
    installed: bool = False
    user_id: str | None = None
    seq: int = 0
    playing_until: float = (
        0.0  # a speaker's audio plays until then (sim seconds), whoever put it on
    )
    _context: dict[str, Any] | None = None
    _contexts: dict[tuple[str, int], EventContext] = field(default_factory=dict)
    type: str = field(init=False, repr=False, compare=False)  # the spec's type: phone, tv, ...

    def __post_init__(self) -> None:
        # NOTE: the spec's type copied once, read as a plain attribute in the hot loop (test_speed_tricks.py).
        self.type = self.spec.type

    @property
    def shared(self) -> bool:
        return self.owner_id is None

    @property
    def sender(self) -> Device:
        """The device whose SDK sends this one's events: the phone, for a projected car."""
        if self.path == "projection" and self.relay is not None:
            return self.relay
        return self

    def reset_anonymous_id(self, rng: np.random.Generator) -> None:
        """A cleared cookie or reinstall: the SDK mints a new install id."""
        self.anonymous_id = uuid_like(rng)
        self.anonymous_ids.append(self.anonymous_id)

    def log_in(self, user_id: str) -> None:
        self.user_id = user_id
        if user_id not in self.user_ids:
            self.user_ids.append(user_id)

    def base_context(self) -> dict[str, Any]:
        """The static part of ``context``: what the device is and what runs on it."""
        if self._context is None:
            spec = self.spec
            context: dict[str, Any] = {
                "device": {
                    "id": self.id,
                    "type": spec.type,
                    "model": spec.model,
                    "manufacturer": spec.manufacturer,
                },
                "os": {"name": spec.os, "version": spec.os_version},
                "locale": self.locale.replace("_", "-"),
                "timezone": self.timezone,
                "library": LIBRARY,
            }
            if spec.app:
                context["app"] = {"name": APP_NAME, "version": APP_VERSION, "build": APP_BUILD}
            else:
                context["userAgent"] = f"Mozilla/5.0 ({spec.os} {spec.os_version}) {spec.model}"
            self._context = context
        return self._context

    def context_at(self, ip: str, location: dict[str, str] | None) -> dict[str, Any]:
        """The full ``context`` for an event from ``ip``, shared by every event sent from there.

        Events hold the same (never mutated) dict, which keeps a long trace cheap.
        """
        key = (ip, id(location) if location is not None else 0)
        context = self._contexts.get(key)
        if context is None:
            context = EventContext(self.base_context())
            context["ip"] = ip
            if location is not None:
                context["location"] = location
            context.seal()
            if len(self._contexts) > 8:
                self._contexts.clear()
            self._contexts[key] = context
        return context

    def truth(self, persona: str) -> dict[str, Any]:
        """The ground-truth line for ``truth.jsonl.gz``."""
        return {
            "device_id": self.id,
            "device_type": self.type,
            "anonymous_ids": list(self.anonymous_ids),
            "user_ids": list(self.user_ids),
            "household_id": self.household_id,
            "person_id": self.owner_id,
            "persona": persona,
            "also_used_by": [p for p in self.used_by if p != self.owner_id],
            "network_path": self.path,
            "os": self.spec.os,
        }
