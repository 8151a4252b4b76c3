"""Cross-device messaging: campaigns, guards, channel and device choice, content per device.

The engine's second half. The identity graph says who an event belongs to;
the :class:`Messenger` decides whom to contact, on which channel and device,
with what words and when, and logs every decision (sent, or suppressed and
why). It is plain Python with no I/O and no SimPy, so the simulation and the
HTTP server host the very same object. See docs/messaging.md.
"""

from __future__ import annotations

from typing import Any

from sim.engine.messaging.config import Campaign, parse_campaigns
from sim.engine.messaging.journeys import Journey, parse_journeys
from sim.engine.messaging.messenger import Delivery, Messenger
from sim.engine.messaging.programme import parse_programme
from sim.engine.messaging.templates import check_templates

__all__ = ["Campaign", "Delivery", "Journey", "Messenger", "build_messaging"]


def build_messaging(
    campaigns: list[dict[str, Any]],
    scenario: str,
    journeys: list[dict[str, Any]] | None = None,
    programme: dict[str, Any] | None = None,
) -> Messenger | None:
    """A messenger for the scenario's ``[[campaigns]]`` and ``[[journeys]]`` under its
    ``[programme]`` policy; ``None`` when there are neither.

    Raises :class:`sim.errors.ConfigError` listing every problem, each naming
    the ``scenario`` file, the campaign (or journey and step) and the key.
    """
    if not campaigns and not journeys:
        return None
    policy = parse_programme(programme, scenario) if programme else None
    segments = policy.segments if policy is not None else {}
    parsed = parse_campaigns(campaigns, scenario, segments)
    names = {c.name for c in parsed}
    paths = parse_journeys(journeys or [], scenario, names, segments)
    check_templates([*parsed, *(c for j in paths for c in j.campaigns)], scenario)
    return Messenger(parsed, scenario, paths, policy)
