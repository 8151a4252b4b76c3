"""Shared look: one Agg-backed figure factory and fixed colours per device and outcome."""

from __future__ import annotations

import io
from typing import Literal

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import MaxNLocator

DPI = 100
DEVICE_COLOURS = {
    "phone": "#1f77b4",
    "tablet": "#17becf",
    "laptop": "#2ca02c",
    "watch": "#ff7f0e",
    "car": "#8c564b",
    "tv": "#9467bd",
    "speaker": "#d62728",
}
SOFT = (
    "#c6dbef",
    "#c7e9c0",
    "#fdd0a2",
    "#dadaeb",
    "#fcbba1",
    "#d9d9d9",
    "#fde0ef",
    "#e5f5e0",
    "#deebf7",
    "#fee6ce",
    "#efedf5",
    "#f0f0f0",
)
STRONG = (
    "#4c72b0",
    "#dd8452",
    "#55a868",
    "#c44e52",
    "#8172b3",
    "#937860",
    "#da8bc3",
    "#8c8c8c",
    "#ccb974",
    "#64b5cd",
)
SENT = "#2e7d32"
GOOD = "#2e7d32"
BAD = "#c62828"


def new_figure(
    width: float = 10.0, height: float = 4.2, layout: Literal["constrained"] | None = "constrained"
) -> Figure:
    """A figure with an Agg canvas (constrained layout unless told otherwise)."""
    figure = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def drawable(text: str, fallback: str) -> str:
    """``text`` when the figures' font has a glyph for every character, else ``fallback``.

    The population speaks Korean and Russian too; DejaVu Sans has Cyrillic but no
    Hangul, and a title of empty boxes tells a reader nothing.
    """
    font = _default_font()
    return text if all(font.get_char_index(ord(c)) for c in text if not c.isspace()) else fallback


_FONTS: dict[str, FT2Font] = {}


def _default_font() -> FT2Font:
    path = font_manager.findfont(font_manager.FontProperties())
    if path not in _FONTS:
        _FONTS[path] = FT2Font(path)
    return _FONTS[path]


def device_colour(label: str) -> str:
    return DEVICE_COLOURS.get(label.split(" ")[0], "#7f7f7f")


def integer_ticks(axes: Axes, axis: str = "y") -> None:
    target = axes.yaxis if axis == "y" else axes.xaxis
    target.set_major_locator(MaxNLocator(integer=True))


def tidy(axes: Axes) -> None:
    """No top/right spines, light grid behind the data."""
    axes.spines["top"].set_visible(False)
    axes.spines["right"].set_visible(False)
    axes.set_axisbelow(True)


def empty(axes: Axes, text: str) -> None:
    """A panel that says why it holds no data."""
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="#666")
    axes.set_xticks([])
    axes.set_yticks([])
