"""Journeys drawn as flow diagrams: steps as boxes, arrows as wide as the people who took them.

A subway map per journey from ``summary.json`` ``journey_programs``: the
start on the left, each column one step further along; every box says what
the step is and what happened there (entered, sent and why not, opened,
clicked, left and why, converted afterwards), every arrow how many people
went that way. Steps nobody reached sit, greyed, in the last column. No
section when the run had no journeys.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

import sim.report.tables as t
from sim.report.figures.style import new_figure
from sim.report.sections import Panel, Section

KIND_COLOURS = {
    "message": "#c6dbef",
    "wait": "#f0f0f0",
    "split": "#fdd0a2",
    "experiment": "#dadaeb",
    "exit": "#c7e9c0",
}
BOX_W, BOX_H = 2.2, 1.15
GAP_X, GAP_Y = 1.1, 0.45


def section(tables: t.Tables) -> Section:
    """The report section: one flow diagram per journey (nothing when there are none)."""
    out = Section("journey-programs", "Journeys, step by step")
    block = tables.summary.get("journey_programs") if tables.summary else None
    if not isinstance(block, dict):
        return out
    guide = (
        "Boxes are steps from the start (left) onwards, arrows are people moving on, as wide as "
        "their number; a box lists who entered it, messages sent or suppressed (why), opens, "
        "clicks, exits (why) and conversions after passing it. Grey boxes nobody reached."
    )
    for name, journey in sorted(block.items()):
        if isinstance(journey, dict) and isinstance(journey.get("steps"), dict):
            out.panels.append(Panel(flow_figure(name, journey), guide))
            converted, entered = journey.get("converted", 0), journey.get("entered", 0)
            seconds = journey.get("seconds_to_conversion", 0)
            mean = f", mean {seconds / converted / 3600:.1f} h to convert" if converted else ""
            twice = journey.get("walked_twice", 0)
            also = f"; {twice:,} true persons walked it twice at once (unstitched)" if twice else ""
            out.rows.append((name, f"{converted:,} of {entered:,} runs converted{mean}{also}"))
    return out


def columns(steps: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Steps by distance from the start along the arrows people took; unreached last."""
    targets = {to for s in steps.values() for to in s.get("advanced", {}) if to in steps}
    starts = [sid for sid, s in steps.items() if sid not in targets and s.get("entered", 0)]
    depth: dict[str, int] = {sid: 0 for sid in starts}
    todo = list(starts)
    while todo:
        sid = todo.pop(0)
        for to in sorted(steps[sid].get("advanced", {})):
            if to in steps and to not in depth:
                depth[to] = depth[sid] + 1
                todo.append(to)
    last = max(depth.values(), default=-1) + 1
    out: list[list[str]] = [[] for _ in range(last + 1)]
    for sid in steps:
        out[depth.get(sid, last)].append(sid)
    return [c for c in out if c]


def flow_figure(name: str, journey: dict[str, Any]) -> Figure:
    steps: dict[str, dict[str, Any]] = journey["steps"]
    layout = columns(steps)
    tallest = max(len(c) for c in layout)
    width = len(layout) * (BOX_W + GAP_X)
    height = tallest * (BOX_H + GAP_Y)
    figure = new_figure(
        min(16.0, max(6.0, width * 1.25)), max(2.6, height * 1.25 + 0.6), layout=None
    )
    axes = figure.add_axes((0.01, 0.01, 0.98, 0.9))
    axes.set_xlim(-0.2, width)
    axes.set_ylim(-0.2, height + 0.1)
    axes.axis("off")
    where: dict[str, tuple[float, float]] = {}
    for col, ids in enumerate(layout):
        for row, sid in enumerate(ids):
            x = col * (BOX_W + GAP_X)
            y = height - (row + 1) * (BOX_H + GAP_Y) + GAP_Y / 2
            where[sid] = (x, y)
    widest = max((n for s in steps.values() for n in s.get("advanced", {}).values()), default=1)
    for sid, step in steps.items():
        _arrows(axes, sid, step, where, max(widest, 1))
    for sid, step in steps.items():
        _box(axes, sid, step, *where[sid])
    entered, converted = journey.get("entered", 0), journey.get("converted", 0)
    figure.suptitle(f"{name}: {entered:,} entered, {converted:,} converted", fontsize=11)
    return figure


def _arrows(
    axes: Axes, sid: str, step: dict[str, Any], where: dict[str, tuple[float, float]], top: int
) -> None:
    x0, y0 = where[sid]
    for to, count in sorted(step.get("advanced", {}).items()):
        if to not in where or not count:
            continue
        x1, y1 = where[to]
        forward = x1 > x0
        start = (x0 + BOX_W, y0 + BOX_H / 2) if forward else (x0 + BOX_W / 2, y0)
        end = (x1, y1 + BOX_H / 2) if forward else (x1 + BOX_W / 2, y1 + BOX_H)
        arrow = FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=10,
            linewidth=0.8 + 7.0 * count / top,
            color="#4c72b0",
            alpha=0.55,
            connectionstyle="arc3,rad=0.08",
        )
        axes.add_patch(arrow)
        axes.text(
            (start[0] + end[0]) / 2,
            (start[1] + end[1]) / 2 + 0.08,
            f"{count:,}",
            fontsize=7,
            ha="center",
            color="#1a1a1a",
        )


def _box(axes: Axes, sid: str, step: dict[str, Any], x: float, y: float) -> None:
    reached = step.get("entered", 0) > 0
    colour = KIND_COLOURS.get(str(step.get("kind")), "#ffffff") if reached else "#eeeeee"
    axes.add_patch(
        FancyBboxPatch(
            (x, y),
            BOX_W,
            BOX_H,
            boxstyle="round,pad=0.02",
            facecolor=colour,
            edgecolor="#555555" if reached else "#bbbbbb",
            linewidth=0.8,
        )
    )
    axes.text(
        x + 0.08, y + BOX_H - 0.08, f"{sid}  ({step.get('kind')})", fontsize=7.5, va="top",
        fontweight="bold", color="#1a1a1a" if reached else "#999999",
    )  # fmt: skip
    axes.text(
        x + 0.08, y + BOX_H - 0.3, "\n".join(describe(step)), fontsize=6.5, va="top",
        color="#1a1a1a" if reached else "#999999", linespacing=1.25,
    )  # fmt: skip


def describe(step: dict[str, Any]) -> list[str]:
    """The few lines of counts inside a step's box."""
    lines = [f"entered {step.get('entered', 0):,}"]
    if step.get("kind") == "message":
        suppressed = step.get("suppressed", {})
        lines.append(f"sent {step.get('sent', 0):,}, suppressed {sum(suppressed.values()):,}")
        if suppressed:
            top = sorted(suppressed.items(), key=lambda kv: -kv[1])[:2]
            lines.append("  " + ", ".join(f"{k} {v}" for k, v in top))
        devices = step.get("devices_sent", {})
        if devices:
            lines.append("  on " + ", ".join(f"{k} {v}" for k, v in sorted(devices.items())))
        lines.append(f"opened {step.get('opened', 0):,}, clicked {step.get('clicked', 0):,}")
        opened = step.get("devices_opened", {})
        if opened:
            lines.append("  on " + ", ".join(f"{k} {v}" for k, v in sorted(opened.items())))
    exited = step.get("exited", {})
    if exited:
        lines.append("left: " + ", ".join(f"{k} {v}" for k, v in sorted(exited.items())))
    ends = step.get("advanced", {}).get("(end)")
    if ends:
        lines.append(f"ended {ends:,}")
    lines.append(f"converted after {step.get('converted_after', 0):,}")
    return lines
