"""The report's "Journey metrics" section: summary ``journey_metrics`` drawn for a strategist.

Every number was computed once, by :mod:`sim.analysis.journey_metrics`, and
written to ``summary.json``; this module only draws it: one figure comparing
bounce rate, time per session and views per session across device types, the
screens and pages where sessions end, and the tables a strategist reads (per
device, per channel side by side, visitors, churn). Definitions: docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.report.figures.style import BAD, device_colour, empty, new_figure, tidy

DEVICE_GUIDE = (
    "One bar per device type; compare heights across the three panels. A device with no "
    "screens (car, speaker, watch) has no bounce rate and 0 views; TV sessions are one "
    "screen and a film, so they bounce and last long."
)
EXIT_GUIDE = (
    "Longest bars are where most sessions end; the label is the exit rate (exits / views of "
    "that screen). A high exit rate on a cart or checkout screen is a weak point of the funnel."
)


def journey_parts(
    summary: Mapping[str, Any] | None,
) -> tuple[list[tuple[Figure, str]], list[tuple[str, str]], str]:
    """(figure, reading guide) pairs, key/value rows, and why the section is skipped (or "")."""
    block = summary.get("journey_metrics") if summary else None
    if not isinstance(block, dict):
        return [], [], "no `journey_metrics` block in summary.json"
    devices = block.get("by_device") or {}
    panels = [(devices_figure(devices), DEVICE_GUIDE)]
    panels.append((exit_figure(block.get("exit_pages") or []), EXIT_GUIDE))
    rows = device_rows(devices) + channel_rows(block.get("by_channel") or {})
    rows += visitor_rows(block.get("visitors") or {}) + churn_rows(block.get("churn") or {})
    return panels, rows, ""


def devices_figure(devices: Mapping[str, Mapping[str, Any]]) -> Figure:
    """Bounce rate, time per session and views per session, one bar per device type."""
    figure = new_figure(11, 3.4)
    names = list(devices)
    specs = (
        ("bounce_rate", "bounce rate (%)", 100.0),
        ("time_per_session_s", "time per session (min)", 1 / 60),
        ("views_per_session", "views per session", 1.0),
    )
    for index, (key, label, scale) in enumerate(specs):
        axes = figure.add_subplot(1, 3, index + 1)
        _device_bars(axes, names, [devices[n].get(key) for n in names], label, scale)
    figure.suptitle("Sessions by device type", x=0.01, ha="left")
    return figure


def _device_bars(axes: Axes, names: list[str], values: list[Any], label: str, scale: float) -> None:
    if not names:
        empty(axes, "no sessions")
        return
    heights = [0.0 if v is None else float(v) * scale for v in values]
    bars = axes.bar(names, heights, color=[device_colour(n) for n in names])
    for bar, value in zip(bars, values, strict=True):
        text = "n/a" if value is None else f"{float(value) * scale:.1f}"
        axes.annotate(
            text,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=7,
        )
    axes.set_title(label, fontsize=10)
    axes.tick_params(axis="x", labelsize=8, rotation=30)
    tidy(axes)


def exit_figure(exits: list[Mapping[str, Any]]) -> Figure:
    """Horizontal bars: sessions that ended on each screen/page, labelled with its exit rate."""
    figure = new_figure(8, 0.6 + 0.32 * max(len(exits), 3))
    axes = figure.add_subplot(1, 1, 1)
    if not exits:
        empty(axes, "no session ended on a screen or page")
        return figure
    pages = [str(row.get("page")) for row in exits]
    counts = [int(row.get("exits") or 0) for row in exits]
    bars = axes.barh(pages, counts, color="#4c72b0")
    for bar, row in zip(bars, exits, strict=True):
        rate = row.get("exit_rate")
        text = "" if rate is None else f" {float(rate):.0%} exit rate"
        axes.annotate(
            text, (bar.get_width(), bar.get_y() + bar.get_height() / 2), va="center", fontsize=7
        )
    axes.invert_yaxis()
    axes.set_xlabel("sessions that ended here")
    axes.set_title("Top exit screens and pages", loc="left", fontsize=10)
    axes.set_xlim(0, max(counts) * 1.3 or 1)
    axes.axvline(0, color=BAD, lw=0.5)
    tidy(axes)
    return figure


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.1%}"


def _duration(seconds: Any) -> str:
    if seconds is None:
        return "n/a"
    minutes, rest = divmod(round(float(seconds)), 60)
    return f"{minutes}m{rest:02d}s"


def device_rows(devices: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The per-device table: sessions, bounce rate, views and time per session."""
    rows = []
    for name, row in devices.items():
        views = row.get("views_per_session")
        rows.append(
            (
                f"device {name}",
                f"{int(row.get('sessions') or 0):,} sessions · bounce {_pct(row.get('bounce_rate'))}"
                f" · {0.0 if views is None else float(views):.2f} views"
                f" · {_duration(row.get('time_per_session_s'))}"
                f" (median {_duration(row.get('time_per_session_median_s'))})",
            )
        )
    return rows


def channel_rows(channels: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Seed 004's one report for every channel: delivered to cost, side by side."""
    rows = []
    for name, row in channels.items():
        m = row.get("messages") or {}
        cost = "cost not declared"
        if "cost" in m:
            unit = m.get("currency", "")
            cost = (
                f"cost {m['cost']:.2f} {unit} · CPM {_money(m.get('cpm'))}"
                f" · CPC {_money(m.get('cpc'))} · per conversion {_money(m.get('cost_per_conversion'))}"
            )
        rows.append(
            (
                f"channel {name}",
                f"{int(row.get('sessions') or 0):,} sessions · delivered {int(m.get('delivered') or 0):,}"
                f" · opened {int(m.get('opened') or 0):,} · clicked {int(m.get('clicked') or 0):,}"
                f" · CTR {_pct(m.get('ctr'))} · conversions {int(m.get('conversions') or 0):,}"
                f" · opt-outs {int(m.get('opt_outs') or 0):,} · {cost}",
            )
        )
    return rows


def _money(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.4g}"


def visitor_rows(visitors: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Unique and returning visitors per week: true people beside stitched profiles."""
    rows = []
    for period in visitors.get("weekly") or []:
        people, profiles = period.get("persons") or {}, period.get("profiles") or {}
        rows.append(
            (
                f"week from {period.get('from')}",
                f"people {people.get('unique', 0):,} unique ({people.get('returning', 0):,} returning)"
                f" · profiles {profiles.get('unique', 0):,} unique"
                f" ({profiles.get('returning', 0):,} returning)",
            )
        )
    return rows


def churn_rows(churn: Mapping[str, Any]) -> list[tuple[str, str]]:
    if not churn:
        return []
    label = f"churn ({churn.get('days')} days)"
    if churn.get("rate") is None:
        return [(label, f"not measured: {churn.get('reason', 'no customers')}")]
    return [
        (
            label,
            f"{churn.get('churned')} of {churn.get('customers')} customers = {_pct(churn['rate'])}",
        )
    ]
