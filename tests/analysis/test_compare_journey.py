"""hopsim compare's journey metrics: replicates pooled, Wilson intervals on the proportions."""

from __future__ import annotations

from typing import Any

from sim.analysis.compare import wilson
from sim.analysis.compare_journey import journey_comparison, journey_table_rows


def block(
    sessions: int, with_views: int, bounces: int, views: int, time_s: float
) -> dict[str, Any]:
    cut = {
        "sessions": sessions,
        "sessions_with_views": with_views,
        "bounces": bounces,
        "views": views,
        "time_per_session_s": time_s,
        "messages": {"delivered": sessions, "opened": 2, "clicked": sessions // 10},
    }
    return {"overall": cut, "by_device": {"phone": cut}, "by_channel": {}}


def test_replicates_pool_counts_and_weight_means_by_sessions() -> None:
    # Replicate 0: 10 sessions (8 with views, 2 bounces, 40 views, 60 s each on average);
    # replicate 1: 30 sessions (24, 6, 150, 120 s). Pooled: bounce 8/32, views 190/40,
    # time (10 x 60 + 30 x 120) / 40 = 105 s, CTR (1 + 3) / 40.
    pooled = journey_comparison([block(10, 8, 2, 40, 60.0), block(30, 24, 6, 150, 120.0)])
    overall = pooled["overall"]
    assert overall["sessions"] == 40
    assert overall["bounce_rate"] == 0.25
    low, high = wilson(8, 32)
    assert (overall["bounce_rate_ci_low"], overall["bounce_rate_ci_high"]) == (
        round(low, 6),
        round(high, 6),
    )
    assert overall["views_per_session"] == 4.75
    assert overall["time_per_session_s"] == 105.0
    assert overall["ctr"] == 0.1 and overall["ctr_ci_low"] < 0.1 < overall["ctr_ci_high"]
    assert pooled["by_device"]["phone"]["sessions"] == 40


def test_nothing_to_pool_and_no_denominator_give_no_rate() -> None:
    assert journey_comparison([{}, {}]) == {}
    empty = journey_comparison([block(3, 0, 0, 0, 10.0)])["overall"]
    assert empty["bounce_rate"] is None and empty["bounce_rate_ci_low"] is None


def test_printed_rows_show_the_intervals() -> None:
    row = {"journey_metrics": journey_comparison([block(10, 8, 2, 40, 60.0)])}
    ((variant, sessions, bounce, views, time, ctr),) = journey_table_rows({"optimised": row})
    assert (variant, sessions, views, time) == ("optimised", "10", "4.00", "1.0 min")
    assert bounce.startswith("25.0% [") and ctr.startswith("10.0% [")
