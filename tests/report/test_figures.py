"""Figure builders on small hand-made tables: what is drawn, not just that it returns."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.report.behaviour import ChannelCredit, DayShare, PathShare, SwitchMatrix
from sim.report.daylife import Band, DayInLife, Span
from sim.report.experiments import VariantResult
from sim.report.figures import engine, journey, load, people
from sim.report.figures.style import png_bytes
from sim.report.loadtest import LoadSeries, LoadSummary
from sim.report.tables import MessageTable, ProfileSizes, StitchingTable


def texts(axes: Axes) -> list[str]:
    return [text.get_text() for text in axes.texts]


def bars(axes: Axes) -> list[Rectangle]:
    return [p for p in axes.patches if isinstance(p, Rectangle)]


def labelled(axes: Axes) -> None:
    assert axes.get_xlabel() and axes.get_ylabel()


def test_day_in_life_draws_sessions_and_bands() -> None:
    day = DayInLife(
        "Mason",
        "p-1",
        "2026-11-02",
        "America/New_York",
        ["phone", "speaker"],
        [Span(0, 7.5, 8.0), Span(1, 18.5, 18.5), Span(0, 21.0, 22.0)],
        [Band(7.0, 8.0, "commute"), Band(18.0, 20.0, "kitchen")],
        False,
    )
    figure = people.day_in_life_figure(day)
    axes = figure.axes[0]
    assert "Mason" in axes.get_title(loc="left") and "Monday 02 November 2026" in axes.get_title(
        loc="left"
    )
    assert "America/New_York" in axes.get_xlabel() and axes.get_ylabel() == "device"
    assert [t.get_text() for t in axes.get_yticklabels()] == ["phone", "speaker"]
    assert len(axes.collections) == 3  # one broken_barh per session
    widths = [c.get_paths()[0].get_extents().width for c in axes.collections]
    assert min(widths) >= people.MIN_BAR_H - 1e-9  # a one-event session is still visible
    legend = axes.get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == [
        "commute",
        "kitchen",
    ]
    assert axes.get_xlim() == (0.0, 24.0)


def test_switch_matrix_annotates_counts_and_colours_row_share() -> None:
    matrix = SwitchMatrix(["phone", "laptop"], np.array([[0, 3], [1, 0]], dtype=np.int64))
    figure = people.switch_matrix_figure(matrix)
    axes = figure.axes[0]
    assert texts(axes) == ["0", "3", "1", "0"]
    image = axes.images[0].get_array()
    assert image[0, 1] == 100 and image[1, 0] == 100 and image[0, 0] == 0
    assert axes.get_xlabel().startswith("to device") and axes.get_ylabel().startswith("from device")
    assert len(figure.axes) == 2  # the colour bar


def test_switch_share_bars_without_a_reference_line() -> None:
    days = [DayShare("2026-11-02", 4, 4), DayShare("2026-11-03", 4, 1)]
    axes = people.switch_share_figure(days).axes[0]
    assert [round(b.get_height()) for b in bars(axes)] == [100, 25]
    assert texts(axes) == ["100%", "25%"]
    assert not axes.lines, "no published figure measures this population: no line"
    assert [t.get_text() for t in axes.get_xticklabels()] == ["Mon 02 Nov", "Tue 03 Nov"]
    labelled(axes)


def test_funnel_shows_counts_and_drop_off() -> None:
    rows = [("awareness", 1000), ("consideration", 500), ("purchase", 100)]
    axes = journey.funnel_figure(rows).axes[0]
    heights = [round(b.get_width()) for b in bars(axes)]
    assert heights == [1000, 1000, 500, 1000, 500, 100]  # grey previous, then blue reached
    assert texts(axes) == [
        "  1,000  (entry)",
        "  500  (50% of previous)",
        "  100  (20% of previous)",
    ]
    assert [t.get_text() for t in axes.get_yticklabels()] == [
        "awareness",
        "consideration",
        "purchase",
    ]
    labelled(axes)


def test_journeys_draw_one_row_per_journey_ending_in_order() -> None:
    journeys = [
        PathShare(("phone", "laptop · email", "laptop"), 6, 0.6),
        PathShare(("phone", "tablet"), 4, 0.4),
    ]
    axes = journey.journeys_figure(journeys).axes[0]
    drawn = texts(axes)
    assert drawn.count("phone") == 2 and "laptop · email" in drawn
    assert "6 orders (60% of purchases)" in drawn and "4 orders (40% of purchases)" in drawn
    assert [t.get_text() for t in axes.get_xticklabels()] == ["2 before", "1 before", "order"]
    arrows = [child for child in axes.texts if child.get_text() == ""]
    assert len(arrows) == 3
    labelled(axes)


def test_journeys_without_purchases_say_so() -> None:
    axes = journey.journeys_figure([]).axes[0]
    assert texts(axes) == ["no purchases in this run"]


def test_attribution_pareto_curve() -> None:
    credits = [
        ChannelCredit("email", 6, 0.0),
        ChannelCredit("push", 3, 0.0),
        ChannelCredit("sms", 1, 0.0),
    ]
    figure = journey.attribution_figure(credits)
    axes, share = figure.axes
    assert [b.get_height() for b in bars(axes)] == [6, 3, 1]
    assert list(share.lines[0].get_ydata()) == [60.0, 90.0, 100.0]
    assert "2 of 3 channel(s) bring 80%" in axes.get_title(loc="left")
    assert share.get_ylabel() == "cumulative share of orders (%)"
    labelled(axes)


def test_stitching_dots_per_rule_and_merge_bars() -> None:
    table = StitchingTable(
        [
            (
                "overall",
                {
                    "pairwise_precision": 0.99,
                    "pairwise_recall": 0.9,
                    "f05": 0.97,
                    "bcubed_f1": 0.95,
                },
            ),
            ("deterministic", {"pairwise_precision": 1.0, "pairwise_recall": 0.6}),
        ],
        over_merges=3,
        under_merges=12,
        extras={},
    )
    sizes = ProfileSizes(Counter({1: 5, 2: 3}), Counter({2: 4}), households=1)
    figure = engine.stitching_figure(table, sizes)
    scores, merges, profile = figure.axes
    assert [len(c.get_offsets()) for c in scores.collections] == [2, 2, 1, 1]
    assert [t.get_text() for t in scores.get_yticklabels()] == ["overall", "deterministic"]
    assert scores.get_xlim()[1] > 1.0 and scores.get_xlim()[0] <= 0.6
    assert [b.get_height() for b in bars(merges)] == [3, 12]
    assert [round(b.get_height()) for b in bars(profile)][:2] == [5, 3]
    for axes in figure.axes:
        labelled(axes)


def test_messages_stack_sent_and_suppressions() -> None:
    table = MessageTable(
        by_channel={
            "push": Counter({"sent": 3, "suppressed: quiet_hours": 2}),
            "email": Counter({"sent": 1}),
        },
        by_device={
            "phone": Counter({"sent": 3, "suppressed: quiet_hours": 2}),
            "laptop": Counter({"sent": 1}),
        },
        outcomes=["sent", "suppressed: quiet_hours"],
        total=6,
    )
    figure = engine.messages_figure(table)
    channel, device = figure.axes
    assert [round(b.get_width()) for b in bars(channel)] == [3, 1, 2, 0]
    assert texts(channel) == [" 5", " 1"]
    assert [t.get_text() for t in channel.get_yticklabels()] == ["push", "email"]
    assert channel.get_ylabel() == "channel" and device.get_ylabel() == "device type"
    legend = figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["sent", "suppressed: quiet_hours"]
    assert "6 decisions" in figure.get_suptitle()


def test_experiments_error_bars() -> None:
    variants = [
        VariantResult("cart", "control", 400, 20, 0.05, 0.03, 0.076),
        VariantResult("cart", "free_shipping", 400, 34, 0.085, 0.061, 0.116),
    ]
    axes = engine.experiments_figure(variants).axes[0]
    assert [t.get_text() for t in axes.get_yticklabels()] == [
        "cart: control",
        "cart: free_shipping",
    ]
    assert any("8.5% [6.1%, 11.6%]" in text for text in texts(axes))
    dotted = [c for c in axes.collections if c.get_linestyle()[0][1] is not None]
    segments = [s for c in dotted for s in c.get_segments()]  # the control line, its campaign only
    assert [(s[0][0], s[0][1], s[1][1]) for s in segments] == [(5.0, -0.4, 1.4)]
    labelled(axes)


def test_load_percentiles_and_timeseries() -> None:
    summary = LoadSummary(
        {"rps": 100.0},
        {"p50": 2.0, "p95": 5.0, "p99": 9.0, "max": 30.0},
        {"p50": 3.0, "p95": 8.0, "p99": 20.0, "max": 60.0},
        {"p50": 0.5, "p99": 8.0},
    )
    axes = load.percentiles_figure(summary).axes[0]
    assert len(bars(axes)) == 12
    assert [t.get_text() for t in axes.get_xticklabels()] == ["p50", "p95", "p99", "max"]
    labelled(axes)
    series = LoadSeries(
        {
            "t_s": [1.0, 2.0, 3.0],
            "rps": [10.0, 12.0, 11.0],
            "events_per_second": [400.0, 480.0, 440.0],
            "p50_ms": [1.0, 1.1, 1.2],
            "p99_ms": [5.0, 6.0, 9.0],
            "lag_p99_ms": [float("nan")] * 3,
        }
    )
    figure = load.timeseries_figure(series)
    _, latency, lag, events = figure.axes
    assert [line.get_label() for line in latency.lines] == ["p50", "p99"]
    assert list(events.lines[0].get_ydata()) == [400.0, 480.0, 440.0]
    assert texts(lag) == ["not recorded"]
    assert lag.get_xlabel() == "time since start of the load test (s)"


def test_png_bytes_is_a_png() -> None:
    figure = journey.funnel_figure([("awareness", 3)])
    data = png_bytes(figure)
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 2000
    assert isinstance(figure, Figure) and figure.canvas.__class__.__name__ == "FigureCanvasAgg"


@pytest.mark.filterwarnings("error")
def test_empty_tables_draw_a_note_not_an_error() -> None:
    figures = [
        journey.funnel_figure([("awareness", 0), ("consideration", 0)]),
        journey.funnel_figure([]),
        journey.attribution_figure([]),
        engine.messages_figure(MessageTable({}, {}, [], 0)),
        engine.experiments_figure([]),
        engine.stitching_figure(StitchingTable([("overall", {})], 0, 0, {})),
        people.switch_matrix_figure(SwitchMatrix([], np.zeros((0, 0), dtype=np.int64))),
        people.switch_share_figure([]),
    ]
    for figure in figures:
        assert png_bytes(figure).startswith(b"\x89PNG")
    assert texts(figures[3].axes[0]) == ["messages.jsonl holds no decisions"]


def test_experiment_with_no_conversions_draws() -> None:
    from sim.analysis.compare import wilson

    low, high = wilson(0, 40)
    variants = [VariantResult("cart", "control", 40, 0, 0.0, low + 1e-17, high)]
    figure = engine.experiments_figure(variants)
    assert png_bytes(figure).startswith(b"\x89PNG")


def test_realism_figure_draws_each_band_and_colours_the_dot_by_within() -> None:
    from sim.report.figures import realism

    rows = [
        {
            "name": "in",
            "value": 0.75,
            "published": 0.77,
            "low": 0.749,
            "high": 0.791,
            "within": True,
        },
        {"name": "out", "value": 0.2, "published": 0.4, "low": 0.4, "high": 1.0, "within": False},
        {
            "name": "noisy",
            "value": 0.38,
            "published": 0.4,
            "low": 0.4,
            "high": 0.41,
            "within": False,
            "interval": [0.3, 0.48],
            "consistent": True,
        },
        {"name": "none", "value": None, "published": 1.0, "low": 1.0, "high": 2.0, "within": False},
    ]
    axes = realism.realism_figure(rows).axes[0]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["in", "out", "noisy", "none"]
    bands = [line for line in axes.lines if line.get_linewidth() == 7]
    assert [tuple(np.round(b.get_xdata(), 3)) for b in bands] == [
        (0.973, 1.027),
        (1.0, 2.5),
        (1.0, 1.025),
        (1.0, 2.0),
    ]
    dots = [line for line in axes.lines if line.get_marker() == "o"]
    assert [d.get_color() for d in dots] == ["#2e7d32", "#c62828", realism.NOISE]
    whiskers = [line for line in axes.lines if line.get_color() == "#333333"]
    assert [tuple(np.round(w.get_xdata(), 3)) for w in whiskers] == [(0.75, 1.2)]
    title = axes.get_title(loc="left")
    assert "1 of 4 rows within band" in title and "2 within or consistent" in title
    assert "not measured" in texts(axes)
    assert "0 fitted" in title


def test_realism_figure_marks_a_fitted_row_and_names_its_knob() -> None:
    from sim.report.figures import realism

    knob = "data/brands.toml categories.retail.quick_look.phone"
    rows = [
        {"name": "fit", "value": 0.5, "published": 0.5, "low": 0.4, "high": 0.6, "within": True}
        | {"fitted": knob},
        {"name": "free", "value": 0.5, "published": 0.5, "low": 0.4, "high": 0.6, "within": True}
        | {"fitted": None},
    ]
    axes = realism.realism_figure(rows).axes[0]
    labels = [t.get_text() for t in axes.get_yticklabels()]
    assert labels == [f"{realism.FITTED} fit", "free"]
    assert f"fitted: {knob}" in texts(axes)
    assert not any("free" in text for text in texts(axes))
    assert "1 fitted" in axes.get_title(loc="left")


def test_stitching_figure_leads_with_person_level_and_draws_both_targets() -> None:
    table = StitchingTable(
        [
            ("person level", {"pairwise_precision": 0.79, "f05": 0.70, "bcubed_f1": 0.81}),
            ("household level", {"pairwise_precision": 0.99, "f05": 0.975}),
        ],
        over_merges=1,
        under_merges=2,
        extras={},
        definitions={"person level": "owned devices", "household level": "shared devices"},
    )
    scores = engine.stitching_figure(table).axes[0]
    assert [t.get_text() for t in scores.get_yticklabels()] == ["person level", "household level"]
    assert sorted(line.get_xdata()[0] for line in scores.get_lines()) == [0.9, 0.95]
    assert scores.get_ylabel() == "level and rule set"
    assert "person level first" in scores.get_title()


def test_a_title_the_font_cannot_draw_falls_back_to_one_it_can() -> None:
    from sim.report.figures.style import drawable

    assert drawable("Mason Reed", "fallback") == "Mason Reed"
    assert drawable("Дмитрий Орлов", "fallback") == "Дмитрий Орлов"  # DejaVu has Cyrillic
    assert drawable("김영최", "person p-1 (kaylee persona)") == "person p-1 (kaylee persona)"
