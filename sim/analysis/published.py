"""Published figures: the values and bands the realism table compares with.

``data/published.toml`` holds, for each figure, what a study measured and
the band the study supports, with its source. The band is the source's and
is never widened to fit; a figure meant only for some brand categories says
which.

A row can be *fitted*: the world has a free (unpublished) parameter that was
set so this outcome lands in the band, like a tailor taking in a seam until
the jacket fits. Such a row is calibration, not validation, and says so:
``fitted = "<data file> <key>[, <key> ...]"`` names the knob (``data/brands.toml
categories.retail.quick_look.phone``). The file must exist, relative to the
repository or to ``data/``, and hold every key named.

A realism module that counts rows of its own asks for them by name with
:func:`require`: a row missing from the file, or a share's band outside 0-1,
fails naming the file and the key, before any row is counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sim.errors import Problems
from sim.world.schema import Reader, load_toml

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "data" / "published.toml"
KEYS = ("published", "low", "high", "categories", "source", "remark", "fitted")
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # a TOML key that needs no quotes


@dataclass(frozen=True)
class Published:
    """One published figure: value, band and where it comes from."""

    name: str
    published: float
    low: float
    high: float
    source: str
    categories: tuple[str, ...] = ()
    fitted: str | None = None  # "<data file> <key>": the free parameter set so this row lands

    def applies_to(self, category: str) -> bool:
        return not self.categories or category in self.categories

    def fitted_in(self, category: str) -> str | None:
        """The knob, unless it is another brand category's (``categories.retail.…`` in a media run)."""
        if self.fitted is None:
            return None
        knob = self.fitted.split()[1]
        if knob.startswith("categories.") and knob.split(".")[1] != category:
            return None
        return self.fitted


def parse_published(data: dict[str, Any], path: Path | str) -> dict[str, Published]:
    """Validate ``published.toml``; every figure needs a source and low <= published <= high."""
    reader = Reader(path)
    reader.known(data, ("figures",), "")
    out: dict[str, Published] = {}
    for name, raw in reader.table(data, "figures", "").items():
        where = f"{key_of(name)}."
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
            fitted=_fitted(reader, item, where),
        )
    reader.raise_if_any()
    return out


def _fitted(reader: Reader, item: dict[str, Any], where: str) -> str | None:
    """The optional ``fitted`` knob: ``"<data file> <key>"``, the file one that exists."""
    if "fitted" not in item:
        return None
    value = item["fitted"]
    expected = 'a string "<data file> <key>" naming an existing data file and the fitted key'
    parts = value.split() if isinstance(value, str) else []
    if len(parts) < 2:
        reader.fail(f"{where}fitted", expected, value)
        return None
    files = [base / parts[0] for base in (ROOT, ROOT / "data") if (base / parts[0]).is_file()]
    if not files:
        reader.fail(f"{where}fitted", f"{expected} (no file {parts[0]})", value)
        return None
    data = load_toml(files[0])
    for key in (part.strip(",") for part in parts[1:]):
        if not _has_key(data, key):
            reader.fail(f"{where}fitted", f"{expected} (no key {key} in {parts[0]})", value)
            return None
    return " ".join(parts)


def _has_key(data: dict[str, Any], dotted: str) -> bool:
    """Whether ``a.b.c`` names a key of the TOML table ``data``."""
    node: Any = data
    for name in dotted.split("."):
        if not isinstance(node, dict) or name not in node:
            return False
        node = node[name]
    return True


def key_of(name: str) -> str:
    """The row's key as the file writes it: ``figures.bounce_tablet``, ``figures."US adults ..."``."""
    return f"figures.{name}" if BARE_KEY.fullmatch(name) else f'figures."{name}"'


@cache
def published(path: Path = PUBLISHED) -> dict[str, Published]:
    return parse_published(load_toml(path), path)


def require(
    names: Iterable[str], path: Path = PUBLISHED, share: bool = False
) -> dict[str, Published]:
    """The published rows named, every one of them there, from ``path`` (validated on load).

    ``share``: the rows are shares of people (adults owning a phone, workers
    on transit), so each band must lie within 0 and 1. A row missing or a
    band out of range fails naming the file, the key and what was expected.
    """
    rows = published(path)
    problems = Problems(str(path))
    for name in names:
        row = rows.get(name)
        if row is None:
            problems.fail(
                key_of(name), "a table with published, low, high and source (a realism row)"
            )
        elif share:
            for edge, value in (("low", row.low), ("high", row.high)):
                if not 0.0 <= value <= 1.0:
                    problems.fail(f"{key_of(name)}.{edge}", "a share between 0 and 1", value)
    problems.raise_if_any()
    return {name: rows[name] for name in names}
