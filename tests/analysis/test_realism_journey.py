"""Bounce-rate realism rows: the simulated value of each device beside its benchmark band."""

from __future__ import annotations

import json
from pathlib import Path

from sim.analysis.figures import Figure
from sim.analysis.published import Published
from sim.analysis.realism_journey import metrics_figures
from sim.cli import main

POPULATION = Path(__file__).resolve().parents[2] / "scenarios" / "population.toml"


def test_rows_carry_the_simulated_bounce_rate_and_judge_it_against_the_band() -> None:
    block = {"by_device": {"phone": {"bounce_rate": 0.5}, "laptop": {"bounce_rate": 0.05}}}
    rows = {f.name: f for f in metrics_figures(block, "retail")}
    phone = rows["bounce rate, phone (mobile)"]
    assert (phone.value, phone.low, phone.high, phone.within) == (0.5, 0.488, 0.51, True)
    assert rows["bounce rate, laptop (desktop)"].within is False  # 5% is far below 43-48.4%
    tablet = rows["bounce rate, tablet (tablet)"]
    assert tablet.value is None and tablet.within is False  # no tablet sessions: not measured
    assert "Contentsquare" in phone.source and "Oberlo" in phone.source


def test_a_retail_run_has_quick_looks_and_writes_the_bounce_rows(tmp_path: Path) -> None:
    """The world makes one-screen sessions, so the bounce rows are measured, with their n."""
    out = tmp_path / "run"
    args = ["run", str(POPULATION), "--persons", "150", "--days", "3", "--out", str(out)]
    assert main([*args, "--quiet", "--no-report"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    rows = {r["name"]: r for r in summary["realism"]["figures"]}
    phone = rows["bounce rate, phone (mobile)"]
    by_device = summary["journey_metrics"]["by_device"]["phone"]
    assert phone["value"] == round(by_device["bounce_rate"], 4)
    assert phone["n"] == by_device["sessions_with_views"] > 0
    assert 0.25 < phone["value"] < 0.75, (
        "quick looks: a good share of phone sessions are one screen"
    )
    assert all("n" in row for row in rows.values())


def test_bounce_rows_take_band_source_and_fitted_knob_from_published_toml() -> None:
    from sim.analysis.published import published

    rows = {f.name: f for f in metrics_figures({"by_device": {}}, "retail")}
    laptop = rows["bounce rate, laptop (desktop)"]
    reference = published()["bounce_laptop"]
    assert (laptop.low, laptop.high, laptop.source) == (
        reference.low,
        reference.high,
        reference.source,
    )
    assert laptop.as_row()["fitted"] == reference.fitted


def test_bounce_rows_only_for_the_categories_their_benchmark_covers() -> None:
    """Contentsquare's bounce rates are retail web shops': a media brand gets no such row."""
    block = {"by_device": {"phone": {"bounce_rate": 0.5, "sessions_with_views": 10, "bounces": 5}}}
    assert metrics_figures(block, "media") == []
    assert metrics_figures(block, "retail")


def test_a_row_fitted_by_another_categorys_knob_is_not_marked_fitted() -> None:
    row = Published("x", 0.5, 0.4, 0.6, "s", (), "data/brands.toml categories.retail.skew.shape")
    assert row.fitted_in("retail") == row.fitted
    assert row.fitted_in("media") is None
    other = Published("y", 0.5, 0.4, 0.6, "s", (), "data/reactions.toml open.push.ios")
    assert other.fitted_in("media") == other.fitted


def test_the_tablet_band_is_the_rounding_of_its_one_whole_percent_figure() -> None:
    """Contentsquare's "45%" states a value in [44.5%, 45.5%): a band one can be within."""

    def tablet(value: float) -> Figure:
        block = {"by_device": {"tablet": {"bounce_rate": value}}}
        return next(f for f in metrics_figures(block, "retail") if "tablet" in f.name)

    row = tablet(0.45)
    assert (row.published, row.low, row.high, row.within) == (0.45, 0.445, 0.455, True)
    assert tablet(0.4451).within and tablet(0.4549).within
    assert not tablet(0.4449).within and not tablet(0.4551).within
