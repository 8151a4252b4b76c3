"""The compare statistics on values worked out by hand (and Newcombe's 1998 example)."""

from __future__ import annotations

from collections import Counter

import pytest

from sim.analysis.compare import (
    Arm,
    campaign_block,
    funnel_dropoff,
    newcombe,
    paired,
    pp_interval,
    rate_interval,
    t_quantile,
    top_journeys,
    variant_row,
    wilson,
    with_touchpoints,
)


def test_wilson_zero_of_ten_has_the_rule_of_three_like_upper_bound() -> None:
    # z^2 = 3.8415; centre = (z^2/20) / (1 + z^2/10) = 0.13877 = half width
    low, high = wilson(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.27753, abs=1e-5)


def test_wilson_half_is_symmetric() -> None:
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.23659, abs=1e-5)
    assert high == pytest.approx(0.76341, abs=1e-5)
    assert wilson(0, 0) == (0.0, 0.0)


def test_newcombe_matches_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, method 10: 56/70 vs 48/80
    diff, low, high = newcombe(56, 70, 48, 80)
    assert diff == pytest.approx(0.2)
    assert low == pytest.approx(0.0524, abs=1e-4)
    assert high == pytest.approx(0.3339, abs=1e-4)


def test_paired_mean_and_t_interval() -> None:
    # differences 0.1 and 0.3: mean 0.2, sd 0.1414, se 0.1, t(1) = 12.706
    mean, low, high = paired([0.1, 0.3]) or (0.0, 0.0, 0.0)
    assert mean == pytest.approx(0.2)
    assert low == pytest.approx(0.2 - 1.2706)
    assert high == pytest.approx(0.2 + 1.2706)
    assert paired([0.4]) is None
    assert t_quantile(100) == pytest.approx(1.96, abs=1e-3)


def test_funnel_dropoff_is_share_of_the_stage_before() -> None:
    out = funnel_dropoff({"consideration": 40, "awareness": 100, "purchase": 10})
    assert list(out) == ["awareness", "consideration", "purchase"]
    assert out["awareness"] == {"count": 100, "of_previous": None, "dropped": None}
    assert out["consideration"] == {"count": 40, "of_previous": 0.4, "dropped": 0.6}
    assert out["purchase"] == {"count": 10, "of_previous": 0.25, "dropped": 0.75}


def test_clicks_go_in_front_of_the_trail_within_the_window() -> None:
    clicks = [(5.0, "push:click"), (1.0, "push:click"), (20.0, "watch:click"), (0.0, "sms:click")]
    path = with_touchpoints(["phone:search", "phone:order"], clicks, 0.0, 10.0)
    assert path == ("push:click", "phone:search", "phone:order")


def test_top_journeys_rank_by_count_then_name() -> None:
    paths: Counter[tuple[str, ...]] = Counter({("b",): 2, ("a",): 2, ("c",): 1, ("d",): 5})
    top = top_journeys(paths)
    assert [j["path"] for j in top] == [["d"], ["a"], ["b"]]
    assert top[0] == {"path": ["d"], "orders": 5, "share": 0.5}


def _arm(variant: str, seed: int, n: int, conversions: int, sent: int = 0) -> Arm:
    return Arm(variant, seed - 1, seed, n=n, conversions=conversions, sent=sent)


def test_variant_row_pools_replicates_and_lifts_against_the_base() -> None:
    treated = [_arm("deal", 1, 50, 10, sent=40), _arm("deal", 2, 50, 20, sent=40)]
    control = [_arm("control", 1, 50, 5), _arm("control", 2, 50, 5)]
    row = variant_row(treated, control, control=False)
    assert (row["n"], row["conversions"], row["conversion_rate"]) == (100, 30, 0.3)
    assert row["ci_low"] <= row["conversion_rate"] <= row["ci_high"]
    assert row["lift_vs_control"] == pytest.approx(0.2)
    _, low, high = newcombe(30, 100, 10, 100)
    assert (row["lift_ci_low"], row["lift_ci_high"]) == (round(low, 6), round(high, 6))
    # per-replicate differences 0.1 and 0.3 (seed-matched)
    assert row["lift_paired"]["mean"] == pytest.approx(0.2)
    assert row["messages_per_converted"] == pytest.approx(80 / 30, abs=1e-3)
    assert variant_row(control, None, control=True)["lift_vs_control"] is None


def test_baseline_is_the_control_else_the_first_variant() -> None:
    arms = {"a": [_arm("a", 1, 10, 1)], "ctl": [_arm("ctl", 1, 10, 2)]}
    with_control = campaign_block("c", [("a", False), ("ctl", True)], arms)
    assert with_control["baseline"] == "ctl" and with_control["has_control"]
    assert with_control["variants"]["a"]["lift_vs_control"] == pytest.approx(-0.1)
    without = campaign_block("c", [("a", False), ("ctl", False)], arms)
    assert without["baseline"] == "a" and not without["has_control"]
    assert without["variants"]["a"]["lift_vs_control"] is None


def test_pp_interval_is_signed_percentage_points_or_a_dash() -> None:
    assert pp_interval(0.0125, -0.004, 0.029) == "+1.25 pp [-0.40, +2.90]"
    assert pp_interval(0, 0, 0) == "+0.00 pp [+0.00, +0.00]"
    # a lift that was not computed (no baseline, no pairs) or read back wrong
    assert pp_interval(None, 0.1, 0.2) == "-"
    assert pp_interval(0.1, "0.0", 0.2) == "-"


def test_rate_interval_reads_a_rate_and_its_bounds_from_a_row() -> None:
    row = {"ctr": 0.125, "ctr_ci_low": 0.091, "ctr_ci_high": 0.168}
    assert rate_interval(row, "ctr") == "12.50% [9.10%, 16.80%]"
    assert rate_interval(row, "ctr", 1) == "12.5% [9.1%, 16.8%]"
    assert rate_interval({**row, "ctr_ci_high": None}, "ctr") == "-"
    assert rate_interval(row, "bounce_rate") == "-"
