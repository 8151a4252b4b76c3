"""Published figures: the values and bands the realism table compares with.

``data/published.toml`` holds, for each figure, what a study measured and
the band the study supports, with its source. The band is the source's and
is never widened to fit; a figure meant only for some brand categories says
which.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sim.world.schema import Reader, load_toml

PUBLISHED = Path(__file__).resolve().parents[2] / "data" / "published.toml"
KEYS = ("published", "low", "high", "categories", "source", "remark")


@dataclass(frozen=True)
class Published:
    """One published figure: value, band and where it comes from."""

    name: str
    published: float
    low: float
    high: float
    source: str
    categories: tuple[str, ...] = ()

    def applies_to(self, category: str) -> bool:
        return not self.categories or category in self.categories


def parse_published(data: dict[str, Any], path: Path | str) -> dict[str, Published]:
    """Validate ``published.toml``; every figure needs a source and low <= published <= high."""
    reader = Reader(path)
    reader.known(data, ("figures",), "")
    out: dict[str, Published] = {}
    for name, raw in reader.table(data, "figures", "").items():
        where = f"figures.{name}."
        item = raw if isinstance(raw, dict) else {}
        reader.known(item, KEYS, where)
        numbers = [reader.number(item, k, where, -1e9, 1e9) for k in ("published", "low", "high")]
        value, low, high = numbers
        if not low <= value <= high:
            reader.fail(f"{where}published", f"a value between low {low} and high {high}", value)
        categories = item.get("categories", [])
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            reader.fail(f"{where}categories", "a list of brand category names", categories)
            categories = []
        out[name] = Published(
            name=name,
            published=value,
            low=low,
            high=high,
            source=reader.text(item, "source", where),
            categories=tuple(categories),
        )
    reader.raise_if_any()
    return out


@cache
def published(path: Path = PUBLISHED) -> dict[str, Published]:
    return parse_published(load_toml(path), path)
