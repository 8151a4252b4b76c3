"""People across devices: a day in the life, the switch matrix, daily switching."""

from __future__ import annotations

from datetime import date

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.report.behaviour import DayShare, SwitchMatrix
from sim.report.daylife import ACTIVE, DayInLife
from sim.report.figures.style import SOFT, device_colour, drawable, empty, new_figure, tidy

MIN_BAR_H = 0.15
CONTEXT_COLOURS = {
    "home": "#deebf7",
    "home.sleep": "#ececf4",
    "home.bedroom": "#dfe6f3",
    "home.kitchen": "#fdd0a2",
    "kitchen": "#fdd0a2",
    "home.living_room": "#dadaeb",
    "couch": "#dadaeb",
    "home.office": "#c6dbef",
    "work": "#fee6ce",
    "work.office": "#fee6ce",
    "work.cafe": "#fdebd0",
    "commute": "#c7e9c0",
    "commute.transit": "#c7e9c0",
    "commute.walk": "#e5f5e0",
    "driving": "#d9f0a3",
    "car.driving": "#d9f0a3",
    "car.parked": "#f0f9c8",
    "class": "#fcbba1",
    "campus.library": "#fde0dd",
    "gym": "#fbd5ea",
    "errands": "#fff7bc",
    "social": "#fee391",
    "travel.airport": "#ccece6",
    "travel.hotel": "#d5f0ee",
    "travel.client": "#b2e2e2",
    ACTIVE: "#eceff1",
}


def context_colour(label: str, others: list[str]) -> str:
    if label in CONTEXT_COLOURS:
        return CONTEXT_COLOURS[label]
    return SOFT[others.index(label) % len(SOFT)]


def day_in_life_figure(day: DayInLife) -> Figure:
    """Sessions per device as bars over the local day, context as background bands."""
    figure = new_figure(10, 1.6 + 0.45 * max(len(day.rows), 2), layout=None)
    axes = figure.add_subplot()
    height = figure.get_figheight()
    figure.subplots_adjust(left=0.1, right=0.8, bottom=0.6 / height, top=1 - 0.4 / height)
    labels = sorted({band.label for band in day.bands})
    for band in day.bands:
        colour = context_colour(band.label, labels)
        axes.axvspan(band.start_h, band.end_h, color=colour, alpha=0.9, lw=0)
    for span in day.spans:
        width = max(span.end_h - span.start_h, MIN_BAR_H)
        colour = device_colour(day.rows[span.row])
        axes.broken_barh([(span.start_h, width)], (span.row - 0.35, 0.7), color=colour)
    axes.set_xlim(0, 24)
    axes.set_xticks(range(0, 25, 2), [f"{h:02d}:00" for h in range(0, 25, 2)])
    axes.set_ylim(len(day.rows) - 0.5, -0.5)
    axes.set_yticks(range(len(day.rows)), day.rows)
    axes.set_xlabel(f"local time (hours, {day.timezone})")
    axes.set_ylabel("device")
    weekday = date.fromisoformat(day.date).strftime("%A %d %B %Y")
    persona = f" ({day.name.rsplit('(', 1)[1]}" if "(" in day.name else ""
    who = drawable(day.name, f"person {day.person_id}{persona}")
    axes.set_title(f"A day in the life of {who}: {weekday}", loc="left")
    handles = [Patch(color=context_colour(label, labels), label=label) for label in labels]
    title = "no context events" if day.bands_from_sessions else "context"
    axes.legend(
        handles=handles, title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8
    )
    tidy(axes)
    return figure


def switch_matrix_figure(matrix: SwitchMatrix) -> Figure:
    """From-device rows, to-device columns; colour is the row share, text the count."""
    figure = new_figure(6.8, 5.4)
    axes = figure.add_subplot()
    if not matrix.types:
        empty(axes, "no device switches in this run")
        axes.set_title("Device switches between consecutive sessions")
        return figure
    totals = matrix.counts.sum(axis=1, keepdims=True)
    share = np.divide(matrix.counts, totals, out=np.zeros(matrix.counts.shape), where=totals > 0)
    image = axes.imshow(share * 100, cmap="Blues", vmin=0, vmax=100)
    for (row, column), count in np.ndenumerate(matrix.counts):
        colour = "white" if share[row, column] > 0.6 else "#222"
        axes.text(column, row, f"{count:,}", ha="center", va="center", color=colour, fontsize=9)
    ticks = range(len(matrix.types))
    axes.set_xticks(ticks, matrix.types, rotation=30, ha="right")
    axes.set_yticks(ticks, matrix.types)
    axes.set_xlabel("to device (next session)")
    axes.set_ylabel("from device (session before)")
    axes.set_title("Device switches between consecutive sessions of one person", loc="left")
    figure.colorbar(image, ax=axes, label="share of switches from the row device (%)")
    return figure


def switch_share_figure(days: list[DayShare]) -> Figure:
    """Share of multi-device people who used two or more devices, per local date."""
    figure = new_figure(10, 3.8)
    axes = figure.add_subplot()
    if not days:
        empty(axes, "no sessions")
        return figure
    shares = [day.share * 100 for day in days]
    positions = np.arange(len(days))
    bars = axes.bar(positions, shares, color="#4c72b0", width=0.7, label="people switching")
    axes.bar_label(bars, labels=[f"{s:.0f}%" for s in shares], fontsize=8, padding=2)
    labels = [date.fromisoformat(day.date).strftime("%a %d %b") for day in days]
    step = max(1, len(days) // 14)
    axes.set_xticks(positions[::step], labels[::step], rotation=30 if step > 1 else 0)
    axes.set_ylim(0, 110)
    axes.set_xlabel("local date")
    axes.set_ylabel("people using 2+ devices (%)")
    people = days[0].people
    axes.set_title(
        f"Share of people switching devices per day ({people:,} with 2+ own devices active)",
        loc="left",
    )
    axes.legend(loc="lower right")
    tidy(axes)
    return figure
