"""The engine's results: stitching accuracy, message outcomes, experiment variants."""

from __future__ import annotations

from collections import Counter

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.report.experiments import VariantResult
from sim.report.figures.style import BAD, SENT, STRONG, empty, integer_ticks, new_figure, tidy
from sim.report.tables import MessageTable, ProfileSizes, StitchingTable

METRIC_LABELS = {
    "pairwise_precision": "pairwise precision",
    "pairwise_recall": "pairwise recall",
    "f05": "F0.5",
    "bcubed_f1": "B-cubed F1",
}
METRIC_MARKERS = {"pairwise_precision": "o", "pairwise_recall": "s", "f05": "D", "bcubed_f1": "^"}
TARGET = 0.95  # household level (and the only score of summaries older than the two levels)
PERSON_TARGET = 0.90  # person level F0.5 and B-cubed F1 (issue 14)
REASON_COLOURS = tuple(c for c in STRONG if c != "#55a868")


def stitching_figure(table: StitchingTable, sizes: ProfileSizes | None = None) -> Figure:
    """Scores per rule set (dots), over/under-merges (bars), devices per profile (bars)."""
    panels = 3 if sizes is not None else 2
    figure = new_figure(11, 2.6 + 0.55 * max(len(table.rows), 3))
    grid = figure.add_gridspec(1, panels, width_ratios=[2.4, 1, 1.5][:panels])
    _scores(figure.add_subplot(grid[0]), table)
    _merges(figure.add_subplot(grid[1]), table)
    if sizes is not None:
        _sizes(figure.add_subplot(grid[2]), sizes)
    figure.suptitle("Identity stitching accuracy against ground truth", x=0.01, ha="left")
    return figure


def _scores(axes: Axes, table: StitchingTable) -> None:
    values = [v for _, metrics in table.rows for v in metrics.values()]
    for offset, (metric, label) in enumerate(METRIC_LABELS.items()):
        rows = [(y, m[metric]) for y, (_, m) in enumerate(table.rows) if metric in m]
        ys = [y + (offset - 1.5) * 0.12 for y, _ in rows]
        axes.scatter([v for _, v in rows], ys, marker=METRIC_MARKERS[metric], label=label, s=36)
    two_levels = bool(table.definitions)
    targets = [PERSON_TARGET, TARGET] if two_levels else [TARGET]
    low = min([*values, *targets]) if values else 0.0
    axes.set_xlim(max(0.0, np.floor(low * 20) / 20 - 0.02), 1.01)
    if two_levels:
        axes.axvline(PERSON_TARGET, color=BAD, ls=":", lw=1, label=f"person target {PERSON_TARGET}")
        axes.axvline(TARGET, color=BAD, ls="--", lw=1, label=f"household target {TARGET}")
    else:
        axes.axvline(TARGET, color=BAD, ls="--", lw=1, label=f"target {TARGET}")
    axes.set_yticks(range(len(table.rows)), [name for name, _ in table.rows])
    axes.set_ylim(len(table.rows) - 0.5, -0.5)
    axes.set_xlabel("score (0-1, higher is better)")
    axes.set_ylabel("level and rule set" if two_levels else "rule set")
    axes.set_title(
        "scores: person level first, household level beside"
        if two_levels
        else "scores by rule set",
        fontsize=10,
    )
    axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3)
    axes.grid(axis="x", color="#eee")
    tidy(axes)


def _merges(axes: Axes, table: StitchingTable) -> None:
    counts = [table.over_merges, table.under_merges]
    bars = axes.bar(["over-\nmerges", "under-\nmerges"], counts, color=[BAD, "#dd8452"])
    axes.bar_label(bars, labels=[f"{c:,}" for c in counts], padding=2)
    axes.set_ylabel("errors (count)")
    axes.set_xlabel("error kind")
    axes.set_ylim(0, max(max(counts), 1) * 1.2)
    integer_ticks(axes)
    axes.set_title("merge errors", fontsize=10)
    tidy(axes)


def _sizes(axes: Axes, sizes: ProfileSizes) -> None:
    top = max([*sizes.profile_devices, *sizes.person_devices, 1])
    xs = np.arange(1, min(top, 10) + 1)
    profiles = [sizes.profile_devices.get(int(x), 0) for x in xs]
    people = [sizes.person_devices.get(int(x), 0) for x in xs]
    axes.bar(xs - 0.2, profiles, width=0.4, color="#4c72b0", label="stitched profiles")
    axes.bar(xs + 0.2, people, width=0.4, color="#bbbbbb", label="true persons")
    axes.set_xticks(xs)
    axes.set_xlabel("devices per profile (count)")
    axes.set_ylabel("profiles / persons (count)")
    axes.set_title("profile sizes vs truth", fontsize=10)
    integer_ticks(axes)
    axes.legend(fontsize=7)
    tidy(axes)


def messages_figure(table: MessageTable) -> Figure:
    """Stacked bars of decisions per channel and per device type."""
    figure = new_figure(11, 1.8 + 0.38 * max(len(table.by_channel), len(table.by_device), 3))
    if not table.total:
        empty(figure.add_subplot(), "messages.jsonl holds no decisions")
        return figure
    colours = outcome_colours(table.outcomes)
    for index, (title, groups) in enumerate(
        (("by channel", table.by_channel), ("by device type", table.by_device))
    ):
        axes = figure.add_subplot(1, 2, index + 1)
        _stacked(axes, groups, table.outcomes, colours)
        axes.set_title(title, fontsize=10)
        axes.set_ylabel("channel" if index == 0 else "device type")
    figure.legend(
        handles=[axes_patch(colours[o], o) for o in table.outcomes],
        loc="outside lower center",
        ncol=min(len(table.outcomes), 4),
        fontsize=8,
    )
    figure.suptitle(
        f"Message outcomes: {table.total:,} decisions, sent or suppressed (with reason)",
        x=0.01,
        ha="left",
    )
    return figure


def outcome_colours(outcomes: list[str]) -> dict[str, str]:
    others = [o for o in outcomes if o != "sent"]
    colours = {o: REASON_COLOURS[i % len(REASON_COLOURS)] for i, o in enumerate(others)}
    return {"sent": SENT, **colours}


def axes_patch(colour: str, label: str) -> Patch:
    return Patch(color=colour, label=label)


def _stacked(
    axes: Axes, groups: dict[str, Counter[str]], outcomes: list[str], colours: dict[str, str]
) -> None:
    names = sorted(groups, key=lambda g: -sum(groups[g].values()))
    left = np.zeros(len(names))
    for outcome in outcomes:
        values = np.array([groups[n].get(outcome, 0) for n in names], dtype=float)
        axes.barh(names, values, left=left, color=colours[outcome], label=outcome, height=0.6)
        left += values
    for y, total in enumerate(left):
        axes.text(total, y, f" {int(total):,}", va="center", fontsize=8)
    axes.set_xlim(0, max(left.max() if len(left) else 1, 1) * 1.15)
    axes.invert_yaxis()
    axes.set_xlabel("messages (count)")
    tidy(axes)


def experiments_figure(variants: list[VariantResult]) -> Figure:
    """Conversion rate per variant with its 95% interval; control in grey."""
    figure = new_figure(10, 1.6 + 0.45 * max(len(variants), 2))
    axes = figure.add_subplot()
    if not variants:
        empty(axes, "no experiments in this run")
        return figure
    for y, variant in enumerate(variants):
        colour = "#888888" if variant.is_control else "#4c72b0"
        rate = variant.rate * 100
        error = [[max(0.0, rate - variant.low * 100)], [max(0.0, variant.high * 100 - rate)]]
        axes.errorbar(rate, y, xerr=error, fmt="o", color=colour, capsize=4, ms=6)
        label = f"  {rate:.1f}% [{variant.low:.1%}, {variant.high:.1%}]  n={variant.n:,}"
        axes.text(variant.high * 100, y, label, va="center", fontsize=8)
        if variant.is_control:
            rows = [i for i, v in enumerate(variants) if v.campaign == variant.campaign]
            axes.vlines(rate, min(rows) - 0.4, max(rows) + 0.4, color="#888888", ls=":", lw=1)
    axes.set_yticks(range(len(variants)), [f"{v.campaign}: {v.name}" for v in variants])
    axes.set_ylim(len(variants) - 0.5, -0.5)
    high = max(v.high for v in variants) * 100
    axes.set_xlim(0, high * 1.45 + 0.5)
    axes.set_xlabel("conversion rate (%, bars are 95% confidence intervals)")
    axes.set_ylabel("campaign: variant")
    axes.set_title("Experiment variants: conversion rate with 95% confidence intervals", loc="left")
    tidy(axes)
    return figure
