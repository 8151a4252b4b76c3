"""Simulated vs published: every realism row of the run beside its source's band.

Each row of ``realism.figures`` becomes one line of the chart. The figures
have different units (sessions a month, minutes, shares, hours of the day),
so every line is drawn relative to its own published value: the grey bar is
the band the source supports (low to high, divided by the published value),
the dot is what the simulated people did, green inside the band (strict
``within``), amber outside it but with its 95% sampling interval (the thin
black whisker) overlapping the band (``consistent``: a miss no larger than the
run's own sampling noise), red outside both. A dot on the dashed line at 1
equals the published figure. A row whose free parameter was set so it lands
(``fitted``, calibration rather than validation) is labelled with a marker
and names its knob at the right edge.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sim.report.figures.style import BAD, GOOD, empty, new_figure, tidy

NOISE = "#ef8f00"  # amber: outside the band, but consistent with it at the run"s sample size

FLOOR = 0.05  # ratios below this (a zero measured where something was published) sit at the edge
FITTED = "⚙"  # the label's marker of a fitted row (a gear: a knob was turned to land it)


def label(row: dict[str, Any]) -> str:
    """The row's name, with the fitted marker when a free parameter was set to land it."""
    return f"{FITTED} {row['name']}" if row.get("fitted") else str(row["name"])


def ratio(value: float, published: float) -> float:
    """``value / published``, kept on the chart's log axis."""
    if published == 0:
        return 1.0
    return max(FLOOR, value / published)


def realism_figure(rows: list[dict[str, Any]]) -> Figure:
    """One line per realism row: the band, the published value (1) and the simulated dot."""
    figure = new_figure(10, 0.9 + 0.32 * max(1, len(rows)))
    axes = figure.add_subplot()
    if not rows:
        empty(axes, "no realism figures in summary.json")
        return figure
    positions = np.arange(len(rows))[::-1]
    for y, row in zip(positions, rows, strict=True):
        if row.get("fitted"):
            axes.annotate(
                f"fitted: {row['fitted']}",
                (1.0, y),
                xycoords=("axes fraction", "data"),
                xytext=(-4, -3),
                textcoords="offset points",
                ha="right",
                fontsize=6,
                color="#777777",
            )
        published = float(row["published"])
        low, high = ratio(float(row["low"]), published), ratio(float(row["high"]), published)
        axes.plot([low, high], [y, y], color="#bdbdbd", lw=7, solid_capstyle="butt")
        value = row.get("value")
        if value is None:
            axes.annotate("not measured", (1.0, y), xytext=(6, -3), textcoords="offset points")
            continue
        colour = GOOD if row.get("within") else NOISE if row.get("consistent") else BAD
        interval = row.get("interval")
        if interval:
            ends = [ratio(float(x), published) for x in interval]
            axes.plot(ends, [y, y], color="#333333", lw=1)
        axes.plot([ratio(float(value), published)], [y], "o", color=colour, ms=6)
        axes.annotate(
            f"{float(value):.4g}",
            (ratio(float(value), published), y),
            xytext=(6, 3),
            textcoords="offset points",
            fontsize=7,
            color=colour,
        )
    axes.axvline(1.0, color="#555555", ls="--", lw=1)
    axes.set_xscale("log")
    axes.set_xlim(FLOOR * 0.8, 20)
    axes.set_yticks(positions, [label(r) for r in rows], fontsize=8)
    axes.set_ylim(-0.7, len(rows) - 0.3)
    axes.set_xlabel("simulated ÷ published (log); grey: the source's band; dashed: published")
    within = sum(1 for r in rows if r.get("within"))
    consistent = sum(1 for r in rows if r.get("within") or r.get("consistent"))
    fitted = sum(1 for r in rows if r.get("fitted"))
    axes.set_title(
        f"Simulated vs published: {within} of {len(rows)} rows within band"
        f" ({consistent} within or consistent with it at 95%; {FITTED} {fitted} fitted)",
        loc="left",
    )
    tidy(axes)
    return figure
