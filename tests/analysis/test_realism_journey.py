"""Bounce-rate realism rows: the simulated value of each device beside its benchmark band."""

from __future__ import annotations

from sim.analysis.realism_journey import metrics_figures


def test_rows_carry_the_simulated_bounce_rate_and_judge_it_against_the_band() -> None:
    block = {"by_device": {"phone": {"bounce_rate": 0.5}, "laptop": {"bounce_rate": 0.05}}}
    rows = {f.name: f for f in metrics_figures(block)}
    phone = rows["bounce rate, phone (mobile)"]
    assert (phone.value, phone.low, phone.high, phone.within) == (0.5, 0.488, 0.51, True)
    assert rows["bounce rate, laptop (desktop)"].within is False  # 5% is far below 43-48.4%
    tablet = rows["bounce rate, tablet (tablet)"]
    assert tablet.value is None and tablet.within is False  # no tablet sessions: not measured
    assert "Contentsquare" in phone.source and "Oberlo" in phone.source
