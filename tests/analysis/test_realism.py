"""Realism rows are computed from what the run counted, with the source's band."""

from __future__ import annotations

from typing import Any

import pytest

from sim.analysis.figures import wilson
from sim.analysis.published import parse_published, published
from sim.analysis.realism import (
    Collected,
    brand_figures,
    cross_device_share,
    figures,
    night_over_evening,
    night_over_evening_interval,
    night_share,
    peak_hour,
    switch_rate,
    top_share,
)
from sim.errors import ConfigError
from sim.world.brand import categories


def outcomes() -> dict[str, Any]:
    return {
        "sessions": {"phone": 1000, "laptop": 200},
        "orders": {"phone": 17, "laptop": 9},
        "app_sessions": {"p1": 3, "p2": 1},
        "app_ms": 2 * 60_000 * 3 + 4 * 60_000,
        "app_timed": 4,
        "carts": {"0": 60, "3": 40, "6": 50},
        "carts_bought": {"0": 18, "3": 12, "6": 1},
        "tv_sittings": 10,
        "tv_with": {"any": 8, "phone": 5, "laptop": 3},
        "messages": {
            "push/ios/delivered": 100,
            "push/ios/opened": 2,
            "push/android/delivered": 50,
            "push/android/opened": 3,
            "email/other/delivered": 10,
            "email/other/opened": 2,
        },
        "switch_days": {"0": 4, "1": 4, "10": 2},
        "switched_days": {"0": 4, "1": 1},
    }


def test_rows_are_outcomes_against_the_published_band() -> None:
    rows = {f.name: f for f in brand_figures(Collected("retail", 7, outcomes(), []))}
    assert rows["conversion_phone"].value == pytest.approx(0.017)
    assert rows["conversion_phone"].within
    assert rows["conversion_laptop"].value == pytest.approx(0.045)
    assert not rows["conversion_laptop"].within, "4.5% is above Monetate's 4.44%"
    assert rows["sessions_per_app_user_month"].value == pytest.approx(2 * 30.4 / 7)
    assert rows["app_session_minutes"].value == pytest.approx(2.5)
    assert rows["cart_abandonment"].value == pytest.approx(0.7)
    assert rows["tv_second_screen"].value == pytest.approx(0.8)
    assert rows["push_open_ios"].value == pytest.approx(0.02)
    assert rows["push_open_android"].value == pytest.approx(0.06)
    assert rows["conversion_tablet"].value is None, "no tablet sessions: nothing to measure"
    assert rows["cross_device_orders"].value is None
    reference = published()["conversion_phone"]
    assert (rows["conversion_phone"].low, rows["conversion_phone"].high) == (
        reference.low,
        reference.high,
    )


def test_figures_keep_to_the_brand_category() -> None:
    media = {f.name for f in figures(Collected("media", 7, outcomes(), []))}
    retail = {f.name for f in figures(Collected("retail", 7, outcomes(), []))}
    assert "conversion_phone" in retail and "conversion_phone" not in media
    assert "tv_second_screen" in media, "device use apart from the brand applies to every brand"


def test_published_categories_are_brand_categories() -> None:
    known = set(categories())
    for figure in published().values():
        assert set(figure.categories) <= known, figure.name


def test_switch_rate_counts_days_in_order_and_has_no_published_line() -> None:
    block = switch_rate(outcomes())
    assert block["value"] == pytest.approx(5 / 10)
    assert [d["day"] for d in block["by_day"]] == [0, 1, 10]
    assert block["by_day"][1] == {"day": 1, "people": 4, "switchers": 1}
    assert "published" not in block
    assert switch_rate({})["value"] is None


def test_helpers() -> None:
    paths = [{"path": ["phone:search", "laptop:order"]}, {"path": ["phone:view", "phone:order"]}]
    assert cross_device_share(paths) == 0.5
    assert top_share([10, 1, 1, 1, 1], 0.2) == pytest.approx(10 / 14)
    assert night_share({"03": 4, "04": 5, "05": 6, "21": 10}) == pytest.approx(0.4)
    assert peak_hour({"speaker@09": 5, "speaker@18": 4, "tv@20": 9}, "speaker") == 9.0
    assert peak_hour({}, "tv") is None


def test_a_band_that_does_not_hold_its_published_value_fails_naming_file_and_key() -> None:
    data = {"figures": {"x": {"published": 0.5, "low": 0.6, "high": 0.7, "source": "s"}}}
    with pytest.raises(ConfigError, match=r"pub\.toml: figures\.x\.published: expected a value"):
        parse_published(data, "pub.toml")
    with pytest.raises(ConfigError, match=r"figures\.y\.source: expected a non-empty string"):
        parse_published({"figures": {"y": {"published": 1, "low": 1, "high": 1}}}, "pub.toml")


def test_brand_rows_carry_their_sampling_interval_and_a_consistent_verdict() -> None:
    data = outcomes() | {"app_ms_squares": 3 * (2 * 60_000) ** 2 + (4 * 60_000) ** 2}
    rows = {f.name: f for f in brand_figures(Collected("retail", 7, data, []))}
    laptop = rows["conversion_laptop"]
    assert laptop.interval == wilson(9, 200)
    assert not laptop.within and laptop.consistent, (
        "9 of 200 is 4.5%: out, but not by more than noise"
    )
    assert rows["push_open_ios"].interval == wilson(2, 100)
    minutes = rows["app_session_minutes"].interval or (0.0, 0.0)
    assert minutes[0] < 2.5 < minutes[1], "sessions of 2, 2, 2 and 4 minutes: around 2.5"
    assert rows["cart_abandonment"].interval == wilson(70, 100), "carts of days 0 and 3 only"


def _row(**extra: Any) -> dict[str, Any]:
    return {"figures": {"x": {"published": 0.5, "low": 0.4, "high": 0.6, "source": "s"} | extra}}


def test_a_fitted_row_names_an_existing_data_file_and_its_key() -> None:
    knob = "data/brands.toml categories.retail.quick_look.phone"
    assert parse_published(_row(fitted=knob), "pub.toml")["x"].fitted == knob
    short = "brands.toml categories.retail.quick_look.phone"  # relative to data/ works too
    assert parse_published(_row(fitted=short), "pub.toml")["x"].fitted == short
    assert parse_published(_row(), "pub.toml")["x"].fitted is None, "validation, not calibration"
    for bad in ("", "data/brands.toml", "data/nowhere.toml some.key", 3, ["data/brands.toml k"]):
        with pytest.raises(ConfigError, match=r"pub\.toml: figures\.x\.fitted: expected a string"):
            parse_published(_row(fitted=bad), "pub.toml")
    with pytest.raises(ConfigError, match=r"no file data/nowhere\.toml"):
        parse_published(_row(fitted="data/nowhere.toml some.key"), "pub.toml")
    with pytest.raises(ConfigError, match=r"no key categories\.retail\.quick_look\.watch in"):
        parse_published(_row(fitted="brands.toml categories.retail.quick_look.watch"), "pub.toml")
    two = "data/device_use.toml second_screen_per_hour.tablet, second_screen_per_hour.laptop"
    assert parse_published(_row(fitted=two), "pub.toml")["x"].fitted == two


def test_every_realism_row_says_whether_it_was_fitted() -> None:
    rows = figures(Collected("retail", 7, outcomes(), []))
    references = published()
    for figure in rows:
        assert "fitted" in figure.as_row()
        assert figure.fitted == references[figure.name].fitted, figure.name
    assert any(ref.fitted for ref in references.values()), "calibrated rows name their knob"


def test_night_unlocks_compare_an_hour_of_night_with_an_hour_of_evening() -> None:
    """Locket's row: pick-ups an hour at 03-04 over pick-ups an hour at 17-19, New York time."""
    by_hour = {"03": 10, "04": 10, "05": 999, "16": 999, "17": 100, "18": 100, "19": 100}
    assert night_over_evening(by_hour) == pytest.approx(0.1)
    interval = night_over_evening_interval(by_hour)
    assert interval is not None and interval[0] < 0.1 < interval[1]
    assert night_over_evening({"03": 5}) is None, "no evening, no ratio"


def test_the_3am_row_is_the_share_of_snapshots_in_bed() -> None:
    """ATUS's 94% sleeping at 3 a.m. against the world's people in bed at 03:00 local."""
    counts = {**outcomes(), "asleep_at_3": {"seen": 200, "asleep": 188}}
    rows = {f.name: f for f in brand_figures(Collected("retail", 7, counts, []))}
    row = rows["asleep_at_3am"]
    assert row.value == pytest.approx(0.94) and row.within and row.n == 200
    assert row.interval == wilson(188, 200)
    empty = {f.name: f for f in brand_figures(Collected("retail", 7, outcomes(), []))}
    assert empty["asleep_at_3am"].value is None, "no US adults seen at 3 a.m.: nothing to measure"
