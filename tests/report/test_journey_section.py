"""The "Journey metrics" section: what its figures draw and its rows say, from a hand-made block."""

from __future__ import annotations

from typing import Any

from matplotlib.patches import Rectangle

from sim.report.journey_metrics import channel_rows, devices_figure, exit_figure, journey_parts


def row(sessions: int, bounce: float | None, time_s: float, views: float) -> dict[str, Any]:
    return {
        "sessions": sessions,
        "bounce_rate": bounce,
        "time_per_session_s": time_s,
        "time_per_session_median_s": time_s,
        "views_per_session": views,
    }


DEVICES = {"phone": row(10, 0.25, 120.0, 4.0), "car": row(2, None, 1800.0, 0.0)}


def heights(axes: Any) -> list[float]:
    return [p.get_height() for p in axes.patches if isinstance(p, Rectangle)]


def test_device_figure_compares_bounce_time_and_views() -> None:
    figure = devices_figure(DEVICES)
    bounce, time, views = figure.axes
    assert heights(bounce) == [25.0, 0.0]  # percent; the car has no views, drawn as n/a
    assert [t.get_text() for t in bounce.texts] == ["25.0", "n/a"]
    assert heights(time) == [2.0, 30.0]  # minutes
    assert heights(views) == [4.0, 0.0]
    assert [t.get_text() for t in views.get_xticklabels()] == ["phone", "car"]


def test_exit_figure_ranks_pages_with_their_exit_rate() -> None:
    exits = [
        {"page": "Cart", "exits": 8, "views": 10, "exit_rate": 0.8},
        {"page": "Home", "exits": 3, "views": 30, "exit_rate": 0.1},
    ]
    (axes,) = exit_figure(exits).axes
    widths = [p.get_width() for p in axes.patches if isinstance(p, Rectangle)]
    assert widths == [8, 3]
    assert [t.get_text() for t in axes.texts] == [" 80% exit rate", " 10% exit rate"]


def test_channel_rows_put_cost_beside_outcomes_only_when_declared() -> None:
    channels = {
        "email": {
            "sessions": 2,
            "messages": {
                "delivered": 1000,
                "opened": 200,
                "clicked": 20,
                "ctr": 0.02,
                "conversions": 4,
                "opt_outs": 1,
                "cost": 0.1,
                "currency": "USD",
                "cpm": 0.1,
                "cpc": 0.005,
                "cost_per_conversion": 0.025,
            },
        },
        "push": {"sessions": 1, "messages": {"delivered": 5, "clicked": 0, "ctr": 0.0}},
    }
    email, push = channel_rows(channels)
    assert email[0] == "channel email"
    assert "delivered 1,000 · opened 200 · clicked 20 · CTR 2.0% · conversions 4" in email[1]
    assert "cost 0.10 USD · CPM 0.1 · CPC 0.005 · per conversion 0.025" in email[1]
    assert push[1].endswith("cost not declared")


def test_section_is_skipped_without_the_block() -> None:
    assert journey_parts({"scenario": "x"}) == (
        [],
        [],
        "no `journey_metrics` block in summary.json",
    )
    panels, rows, skipped = journey_parts({"journey_metrics": {"by_device": DEVICES}})
    assert skipped == "" and len(panels) == 2
    assert rows[0] == (
        "device phone",
        "10 sessions · bounce 25.0% · 4.00 views · 2m00s (median 2m00s)",
    )
