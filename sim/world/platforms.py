"""A person's platform: whether their phone is an iPhone, and what follows from that.

Two teenagers with the same persona can sit on either side of the aisle: one
carries an iPhone, the other a Galaxy. Each drawn person draws their phone's
platform from the published share for their country and age band
(``data/platforms.toml``), and their tablet's from the tablet share. What pairs
with the phone follows it, because it cannot do otherwise: an Apple Watch
needs an iPhone and a Wear OS watch an Android phone; CarPlay projects an
iPhone and Android Auto an Android phone. A device on the other platform than
its persona spec takes the spec's ``counterpart`` hardware (model, maker,
operating system: what the brand's CDP sees in ``context`` and the user agent)
and keeps everything else about how the person uses it. Shared devices, laptops
and devices of neither platform (a Fitbit) stay as the persona lists them.

The draws come from a stream of the person's own (``platform``), so the
household's ownership draws and every other stream stay as they were.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np

from sim.world.persona import DeviceSpec, Hardware, Persona
from sim.world.platform_data import FOLLOWS, Platforms, load_platforms


def draw_platforms(
    country: str, age: int, rng: np.random.Generator, platforms: Platforms
) -> dict[str, str]:
    """The platform of a person's ``phone`` and ``tablet``: one uniform each, always both."""
    return {
        kind: "ios" if rng.random() < platforms.apple_share(kind, country, age) else "android"
        for kind in ("phone", "tablet")
    }


def kit(
    persona: Persona, country: str, age: int, rng: np.random.Generator
) -> tuple[DeviceSpec, ...]:
    """The persona's device specs, each on the platform drawn for this person."""
    platforms = load_platforms()
    drawn = draw_platforms(country, age, rng, platforms)
    for kind in stuck(persona, platforms):
        drawn.pop(kind, None)
    return tuple(on_platform(spec, drawn, platforms) for spec in persona.devices)


def stuck(persona: Persona, platforms: Platforms) -> set[str]:
    """Drawn kinds (phone, tablet) that a device of the persona cannot follow: no counterpart.

    A persona file without counterparts keeps its own platform for that
    kind, every device together, so no Apple Watch is paired to an Android
    phone. (A persona the population draws by ownership must have them.)
    """
    return {
        FOLLOWS[spec.type]
        for spec in persona.devices
        if spec.type in FOLLOWS
        and not spec.shared
        and spec.counterpart is None
        and platforms.ecosystem(spec.os) is not None
    }


def on_platform(spec: DeviceSpec, drawn: dict[str, str], platforms: Platforms) -> DeviceSpec:
    """``spec`` itself, or its counterpart when it runs the other platform than the drawn one."""
    wanted = drawn.get(FOLLOWS.get(spec.type, ""))
    own = platforms.ecosystem(spec.os)
    if spec.shared or wanted is None or own is None or own == wanted or spec.counterpart is None:
        return spec
    return swapped(spec)


@cache
def swapped(spec: DeviceSpec) -> DeviceSpec:
    """The spec with its counterpart's hardware (one object per spec: devices share it)."""
    assert spec.counterpart is not None
    other = spec.counterpart
    return replace(
        spec,
        model=other.model,
        manufacturer=other.manufacturer,
        os=other.os,
        os_version=other.os_version,
        counterpart=Hardware(spec.model, spec.manufacturer, spec.os, spec.os_version),
    )
