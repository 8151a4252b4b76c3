"""Realism rows for the journey metrics: simulated bounce rate by device beside retail benchmarks.

Published e-commerce benchmarks give the bounce rate (single-page sessions)
by device. They measure websites in GA-like tools; the simulated figure is
the same definition (docs/metrics.md) over the world's app and web sessions,
so a gap can come from apps (a shop app opens on its home feed and people
scroll on) as well as from the world's calibration. No published benchmark
by device was found for views or time per session in retail, so none is set
beside them. The run adds these rows to ``realism.figures`` for retail brands
once the journey metrics are computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.analysis.figures import Figure, wilson

CONTENTSQUARE = (
    "Contentsquare 2020 Digital Experience Benchmark, e-commerce bounce rate: 43% desktop, "
    "45% tablet, 51% mobile (quoted at intercom.help/seo-help/en/articles/8799291)"
)
OBERLO = (
    "Oberlo, Average Bounce Rate: Ecommerce, Q4 2022: 48.4% desktop, 48.8% mobile "
    "(oberlo.com/statistics/average-bounce-rate-ecommerce)"
)
# simulated device type -> (benchmark device, published, low, high, source)
BENCHMARKS: dict[str, tuple[str, float, float, float, str]] = {
    "phone": ("mobile", 0.51, 0.488, 0.51, f"{CONTENTSQUARE}; {OBERLO}"),
    "laptop": ("desktop", 0.43, 0.43, 0.484, f"{CONTENTSQUARE}; {OBERLO}"),
    "tablet": ("tablet", 0.45, 0.45, 0.45, CONTENTSQUARE),
}


def metrics_figures(journey_metrics: Mapping[str, Any]) -> list[Figure]:
    """Bounce rate per device type of a summary ``journey_metrics`` block, with its benchmark."""
    devices = journey_metrics.get("by_device") or {}
    figures = []
    for device, (label, published, low, high, source) in BENCHMARKS.items():
        tally = devices.get(device) or {}
        value = tally.get("bounce_rate")
        n = tally.get("sessions_with_views")
        bounces = tally.get("bounces")
        figures.append(
            Figure(
                name=f"bounce rate, {device} ({label})",
                definition="single-view sessions / sessions with a view (docs/metrics.md)",
                value=None if value is None else float(value),
                published=published,
                low=low,
                high=high,
                source=source,
                n=n,
                interval=None if n is None or bounces is None else wilson(int(bounces), int(n)),
            )
        )
    return figures
