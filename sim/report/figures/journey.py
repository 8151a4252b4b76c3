"""Journeys: funnel with drop-off, the most common paths to purchase, channel Pareto."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.report.behaviour import ChannelCredit, PathShare
from sim.report.figures.style import device_colour, empty, integer_ticks, new_figure, tidy

PARETO_SHARE = 0.8
STEP = 1.5  # data units between two touchpoint boxes


def funnel_figure(rows: list[tuple[str, int]]) -> Figure:
    """One bar per stage; the grey part is who dropped off since the stage before."""
    figure = new_figure(10, 1.2 + 0.6 * max(len(rows), 2))
    axes = figure.add_subplot()
    if not rows:
        empty(axes, "no journey stages")
        return figure
    stages = [stage for stage, _ in rows]
    counts = np.array([count for _, count in rows], dtype=float)
    previous = np.concatenate([[counts[0]], counts[:-1]]) if len(counts) else counts
    positions = np.arange(len(rows))
    axes.barh(positions, previous, color="#e0e0e0", height=0.65, label="dropped since previous")
    axes.barh(positions, counts, color="#4c72b0", height=0.65, label="reached this stage")
    for y, (count, before) in enumerate(zip(counts, previous, strict=True)):
        kept = f"{count / before:.0%} of previous" if before and y else "entry"
        axes.text(before, y, f"  {int(count):,}  ({kept})", va="center", fontsize=9)
    axes.set_yticks(positions, stages)
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.set_xlim(0, max(counts.max(), 1) * 1.3)
    axes.set_xlabel("people (count)")
    integer_ticks(axes, "x")
    axes.set_ylabel("journey stage")
    axes.set_title("Journey funnel with drop-off", loc="left")
    axes.legend(loc="lower right", fontsize=8)
    tidy(axes)
    return figure


def journeys_figure(
    journeys: list[PathShare], step_label: str = "session before the order (device · channel)"
) -> Figure:
    """Each row a journey, right-aligned so every order sits in the last column."""
    figure = new_figure(10, 1.4 + 0.9 * max(len(journeys), 1))
    axes = figure.add_subplot()
    if not journeys:
        empty(axes, "no purchases in this run")
        axes.set_title("Most common journeys to purchase", loc="left")
        return figure
    width = max(len(j.steps) for j in journeys)
    for row, journey in enumerate(journeys):
        start = width - len(journey.steps)
        for offset, step in enumerate(journey.steps):
            last = offset == len(journey.steps) - 1
            _box(axes, (start + offset) * STEP, row, step, last)
        noun = "order" if journey.count == 1 else "orders"
        text = f"{journey.count:,} {noun} ({journey.share:.0%} of purchases)"
        axes.text((width - 1) * STEP + 0.75, row, text, va="center", fontsize=9)
    axes.set_xlim(-0.8, (width - 1) * STEP + 3.2)
    axes.set_ylim(len(journeys) - 0.5, -0.5)
    ticks = [f"{width - 1 - k} before" if k < width - 1 else "order" for k in range(width)]
    axes.set_xticks([k * STEP for k in range(width)], ticks)
    axes.set_yticks(range(len(journeys)), [f"#{i + 1}" for i in range(len(journeys))])
    axes.set_xlabel(step_label)
    axes.set_ylabel("journey (rank)")
    axes.set_title("The three most common journeys to a purchase", loc="left")
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    return figure


def _box(axes: Axes, x: float, y: int, text: str, last: bool) -> None:
    colour = device_colour(text)
    style = {"boxstyle": "round,pad=0.35", "facecolor": colour, "edgecolor": "none"}
    axes.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        color="white",
        fontsize=8.5,
        bbox=style,
        fontweight="bold" if last else "normal",
    )
    if not last:
        axes.annotate(
            "",
            xy=(x + STEP * 0.62, y),
            xytext=(x + STEP * 0.38, y),
            arrowprops={"arrowstyle": "->", "color": "#555"},
        )


def attribution_figure(credits: list[ChannelCredit]) -> Figure:
    """Orders per channel (bars, most first) and their cumulative share (line)."""
    figure = new_figure(10, 4.2)
    axes = figure.add_subplot()
    if not credits:
        empty(axes, "no orders in this run")
        axes.set_title("Channel attribution", loc="left")
        return figure
    orders = np.array([c.orders for c in credits], dtype=float)
    cumulative = np.cumsum(orders) / orders.sum() * 100
    positions = np.arange(len(credits))
    bars = axes.bar(positions, orders, color="#4c72b0", label="orders", width=0.6)
    axes.set_ylim(0, orders.max() * 1.15)
    integer_ticks(axes)
    axes.bar_label(bars, labels=[f"{int(o):,}" for o in orders], fontsize=8, padding=2)
    axes.set_xticks(positions, [c.channel for c in credits], rotation=20, ha="right")
    axes.set_xlabel("channel (last non-direct touch within 7 days)")
    axes.set_ylabel("orders (count)")
    share_axes = axes.twinx()
    share_axes.plot(positions, cumulative, color="#c44e52", marker="o", label="cumulative share")
    share_axes.axhline(PARETO_SHARE * 100, color="#c44e52", ls=":", lw=1)
    share_axes.set_ylim(0, 115)
    share_axes.set_ylabel("cumulative share of orders (%)")
    needed = int(np.searchsorted(cumulative, PARETO_SHARE * 100 - 1e-9)) + 1
    axes.set_title(
        f"Channel attribution: {int(orders.sum()):,} order(s); {needed} of {len(credits)} "
        f"channel(s) bring 80%",
        loc="left",
    )
    tidy(axes)
    return figure
