"""Realism rows for the journey metrics: simulated bounce rate by device beside retail benchmarks.

Published e-commerce benchmarks give the bounce rate (single-page sessions)
by device (``data/published.toml``, rows ``bounce_*``). They measure websites
in GA-like tools; the simulated figure is the same definition
(docs/metrics.md) over the world's app and web sessions, so a gap can come
from apps (a shop app opens on its home feed and people scroll on) as well
as from the world's calibration. No published benchmark
by device was found for views or time per session in retail, so none is set
beside them. The run adds these rows to ``realism.figures`` for retail brands
once the journey metrics are computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.analysis.figures import Figure, wilson
from sim.analysis.published import published

# simulated device type -> (benchmark device, its row in data/published.toml)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "phone": ("mobile", "bounce_phone"),
    "laptop": ("desktop", "bounce_laptop"),
    "tablet": ("tablet", "bounce_tablet"),
}


def metrics_figures(journey_metrics: Mapping[str, Any], category: str) -> list[Figure]:
    """Bounce rate per device type of a summary ``journey_metrics`` block, with its benchmark,
    for the brand categories the benchmark applies to (``categories`` in published.toml)."""
    devices = journey_metrics.get("by_device") or {}
    references = published()
    figures = []
    for device, (label, key) in BENCHMARKS.items():
        reference = references[key]
        if not reference.applies_to(category):
            continue
        tally = devices.get(device) or {}
        value = tally.get("bounce_rate")
        n = tally.get("sessions_with_views")
        bounces = tally.get("bounces")
        figures.append(
            Figure(
                name=f"bounce rate, {device} ({label})",
                definition="single-view sessions / sessions with a view (docs/metrics.md)",
                value=None if value is None else float(value),
                published=reference.published,
                low=reference.low,
                high=reference.high,
                source=reference.source,
                n=n,
                interval=None if n is None or bounces is None else wilson(int(bounces), int(n)),
                fitted=reference.fitted_in(category),
            )
        )
    return figures
