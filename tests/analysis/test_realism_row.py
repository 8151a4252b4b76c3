import math

import pytest

from sim.analysis.figures import Figure, count_ratio_interval, mean_interval, wilson


def figure(value: float | None) -> Figure:
    return Figure("share", "a share", value, 0.5, 0.4, 0.6, "a study")


def test_within_is_inclusive_of_the_band_and_false_outside_it() -> None:
    assert figure(0.4).within and figure(0.6).within and figure(0.5).within
    assert not figure(0.39).within and not figure(0.61).within


def test_a_figure_with_nothing_to_measure_is_never_within() -> None:
    row = figure(None).as_row()
    assert row["value"] is None and row["within"] is False


def test_row_has_the_summary_keys_and_rounds_the_value() -> None:
    row = figure(0.123456).as_row()
    assert list(row) == [
        "name",
        "definition",
        "value",
        "published",
        "low",
        "high",
        "source",
        "within",
        "n",
        "interval",
        "consistent",
        "fitted",
    ]
    assert row["value"] == 0.1235
    assert row["n"] is None
    assert row["fitted"] is None, "validation unless a knob is named"


def test_row_carries_its_sample_size() -> None:
    row = Figure("share", "a share", 0.5, 0.5, 0.4, 0.6, "a study", n=1234).as_row()
    assert row["n"] == 1234


def test_wilson_matches_a_hand_worked_interval_and_stays_in_zero_one() -> None:
    # 9 of 97 (cart e-mail clicks): p = 0.0928, z = 1.96; worked by hand from Wilson (1927)
    low, high = wilson(9, 97) or (0.0, 0.0)
    assert low == pytest.approx(0.0496, abs=1e-4) and high == pytest.approx(0.1670, abs=1e-4)
    assert wilson(0, 50) is not None and (wilson(0, 50) or (1.0, 1.0))[0] == 0.0
    assert (wilson(50, 50) or (0.0, 0.0))[1] == pytest.approx(1.0)
    assert wilson(3, 0) is None
    none = Figure("split", "a share", 0.0, 0.0, 0.0, 0.0, "target", n=705, interval=wilson(0, 705))
    assert none.within and none.consistent, "zero of 705 against a zero target"


def test_consistent_is_an_overlap_of_the_interval_with_the_band_beside_strict_within() -> None:
    near = Figure("share", "a share", 0.38, 0.5, 0.4, 0.6, "a study", n=97, interval=(0.29, 0.48))
    far = Figure("share", "a share", 0.2, 0.5, 0.4, 0.6, "a study", n=97, interval=(0.13, 0.29))
    assert not near.within and near.consistent
    assert not far.within and far.consistent is False
    assert figure(0.5).consistent is None, "no interval: no verdict"
    assert near.as_row()["interval"] == [0.29, 0.48]


def test_mean_and_count_ratio_intervals() -> None:
    low, high = mean_interval([1.0, 2.0, 3.0, 4.0]) or (0.0, 0.0)
    half = 1.959964 * math.sqrt((5.0 / 3.0) / 4)
    assert low == pytest.approx(2.5 - half) and high == pytest.approx(2.5 + half)
    assert mean_interval([1.0]) is None
    low, high = count_ratio_interval(100, 400) or (0.0, 0.0)
    assert low < 0.25 < high and low * high == pytest.approx(0.25**2)
    assert count_ratio_interval(0, 400) is None
