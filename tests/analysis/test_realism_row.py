from sim.analysis.figures import Figure


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
    ]
    assert row["value"] == 0.1235
    assert row["n"] is None


def test_row_carries_its_sample_size() -> None:
    row = Figure("share", "a share", 0.5, 0.5, 0.4, 0.6, "a study", n=1234).as_row()
    assert row["n"] == 1234
