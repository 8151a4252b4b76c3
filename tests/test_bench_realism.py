"""The realism benchmark's arithmetic: shares of rows within, and the seed ranges it reads."""

from __future__ import annotations

from benchmarks.bench_realism import shares
from benchmarks.realism_seeds import position, seed_range


def row(name: str, within: bool, consistent: bool | None) -> dict[str, object]:
    return {"name": name, "within": within, "consistent": consistent}


def test_shares_count_strict_and_consistent_rows_apart() -> None:
    figures = [
        row("a", True, True),
        row("b", False, True),
        row("c", False, False),
        row("d", True, None),
    ]
    within, near, out = shares(figures)
    assert within == 0.5
    assert near == 0.75
    assert out == ["b", "c"]


def test_seed_ranges_and_band_positions() -> None:
    assert seed_range("3-5") == [3, 4, 5]
    assert seed_range("7,2") == [7, 2]
    assert position(0.5, 0.0, 1.0) == "0.50"
    assert position(1.5, 0.0, 1.0) == "1.50"
    assert position(0.44, 0.45, 0.45) == "below"
