"""Load test: latency percentiles, then throughput, latency and schedule lag over time."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from sim.report.figures.style import empty, new_figure, tidy
from sim.report.loadtest import PERCENTILES, LoadSeries, LoadSummary


def percentiles_figure(summary: LoadSummary) -> Figure:
    """Grouped bars: latency from the actual send vs from the scheduled send."""
    figure = new_figure(10, 3.6)
    axes = figure.add_subplot()
    groups = [
        ("from actual send", summary.latency_ms, "#4c72b0"),
        ("from scheduled send", summary.from_schedule_ms, "#dd8452"),
        ("schedule lag", summary.schedule_lag_ms, "#8c8c8c"),
    ]
    groups = [g for g in groups if g[1]]
    if not groups:
        empty(axes, "loadtest.json holds no latency percentiles")
        return figure
    positions = np.arange(len(PERCENTILES))
    width = 0.8 / len(groups)
    for index, (label, values, colour) in enumerate(groups):
        heights = [values.get(p, np.nan) for p in PERCENTILES]
        bars = axes.bar(
            positions + (index - (len(groups) - 1) / 2) * width,
            heights,
            width,
            label=label,
            color=colour,
        )
        axes.bar_label(bars, labels=[_ms(h) for h in heights], fontsize=8, padding=2)
    axes.set_xticks(positions, PERCENTILES)
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(ScalarFormatter())
    axes.set_xlabel("percentile")
    axes.set_ylabel("milliseconds (log scale)")
    axes.set_title("Load test latency percentiles (exact, from raw samples)", loc="left")
    axes.legend(fontsize=8)
    tidy(axes)
    return figure


def _ms(value: float) -> str:
    return "" if np.isnan(value) else f"{value:,.1f}"


def timeseries_figure(series: LoadSeries) -> Figure:
    """Three panels sharing time: throughput, latency p50/p99, schedule lag p99."""
    figure = new_figure(10, 7.2)
    panels = figure.subplots(3, 1, sharex=True)
    t = series.columns["t_s"]
    _throughput(panels[0], series, t)
    _lines(panels[1], series, t, (("p50_ms", "p50"), ("p99_ms", "p99")), "latency (ms)")
    _lines(panels[2], series, t, (("lag_p99_ms", "lag p99"),), "schedule lag (ms)")
    panels[2].set_xlabel("time since start of the load test (s)")
    figure.suptitle(f"Load test over time ({series.source})", x=0.01, ha="left")
    return figure


def _throughput(axes: Axes, series: LoadSeries, t: list[float]) -> None:
    lines = axes.plot(t, series.columns["rps"], color="#4c72b0", label="requests/s")
    axes.set_ylabel("requests/s")
    axes.set_ylim(bottom=0)
    if series.has("events_per_second"):
        events = axes.twinx()
        lines += events.plot(
            t, series.columns["events_per_second"], color="#55a868", label="events/s (right)"
        )
        events.set_ylabel("events/s")
        events.set_ylim(bottom=0)
    axes.set_title("throughput", fontsize=10, loc="left")
    axes.legend(handles=lines, fontsize=8, loc="lower right")


def _lines(
    axes: Axes, series: LoadSeries, t: list[float], names: tuple[tuple[str, str], ...], unit: str
) -> None:
    drawn = [(name, label) for name, label in names if series.has(name)]
    for name, label in drawn:
        axes.plot(t, series.columns[name], label=label)
    if drawn:
        axes.legend(fontsize=8, loc="upper right")
    else:
        axes.text(0.5, 0.5, "not recorded", transform=axes.transAxes, ha="center", color="#666")
    axes.set_ylabel(unit)
    axes.set_ylim(bottom=0)
    axes.set_title(unit.split(" (")[0], fontsize=10, loc="left")
    tidy(axes)
