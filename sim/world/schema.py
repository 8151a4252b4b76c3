"""Reading TOML data loudly: every problem names the file, the key and what was expected.

A ``Reader`` walks one file and collects *all* problems before raising, so a
user fixing a persona sees the whole list at once rather than one per run.
It also enforces the Synthea rule that behaviour is data with provenance:
any table holding a number must say where it comes from (``source``) or why
it was assumed (``remark``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.errors import ConfigError, Problems

PROVENANCE_KEYS = ("source", "remark")


def load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError([f"{path}: file not found"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc


class Reader(Problems):
    """Typed access to a TOML document that records problems instead of failing fast."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(str(path))
        self.path = str(path)

    def known(self, data: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
        """Flag keys nobody reads: a typo must not silently fall back to a default."""
        if not isinstance(data, Mapping):
            return
        for key in data:
            if key not in allowed and key not in PROVENANCE_KEYS:
                self.fail(f"{where}{key}", f"a known key ({', '.join(allowed)})", "unknown key")

    def table(
        self, data: Mapping[str, Any], key: str, where: str, required: bool = True
    ) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(f"{where}{key}", "a table")
            return {}
        if not isinstance(value, dict):
            self.fail(f"{where}{key}", "a table", value)
            return {}
        return value

    def text(
        self, data: Mapping[str, Any], key: str, where: str, default: str | None = None
    ) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or not value:
            self.fail(f"{where}{key}", "a non-empty string", value)
            return default or ""
        return value

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        lo: float,
        hi: float,
        default: float | None = None,
    ) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            self.fail(f"{where}{key}", f"a number between {lo:g} and {hi:g}", value)
            return lo if default is None else default
        return float(value)

    def integer(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        lo: int,
        hi: int,
        default: int | None = None,
    ) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.fail(f"{where}{key}", f"a whole number between {lo} and {hi}", value)
            return lo if default is None else default
        return value

    def flag(self, data: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{where}{key}", "true or false", value)
            return default
        return value

    def probability(
        self, data: Mapping[str, Any], key: str, where: str, default: float | None = None
    ) -> float:
        """A probability written either bare or as ``{ value = 0.3, source = "..." }``."""
        value = data.get(key, default)
        if isinstance(value, dict):
            return self.number(value, "value", f"{where}{key}.", 0.0, 1.0)
        return self.number(data, key, where, 0.0, 1.0, default)

    def weights(
        self, data: Mapping[str, Any], key: str, where: str, allowed: set[str] | None = None
    ) -> dict[str, float]:
        """A table of non-negative weights (provenance keys ignored), normalised to sum 1."""
        table = self.table(data, key, where)
        out: dict[str, float] = {}
        for name, value in table.items():
            if name in PROVENANCE_KEYS:
                continue
            if allowed is not None and name not in allowed:
                self.fail(f"{where}{key}.{name}", f"one of {sorted(allowed)}", name)
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                self.fail(f"{where}{key}.{name}", "a non-negative number", value)
                continue
            out[name] = float(value)
        total = sum(out.values())
        if table and total <= 0:
            self.fail(f"{where}{key}", "weights with a positive sum", table)
            return {}
        return {name: weight / total for name, weight in out.items()}

    def check_provenance(self, data: Any, where: str = "", covered: bool = False) -> None:
        """A table holding a number needs a ``source`` or ``remark`` (its own or a parent's)."""
        if isinstance(data, list):
            for index, item in enumerate(data):
                self.check_provenance(item, f"{where}[{index}].", covered)
            return
        if not isinstance(data, dict):
            return
        covered = covered or (where != "" and any(k in data for k in PROVENANCE_KEYS))
        has_number = any(
            isinstance(v, int | float) and not isinstance(v, bool) for v in data.values()
        )
        if has_number and not covered:
            name = where.rstrip(".") or "(top level)"
            self.fail(name, "a 'source' or 'remark' for its numbers")
        for key, value in data.items():
            nested = f"{where}{key}." if isinstance(value, dict) else f"{where}{key}"
            self.check_provenance(value, nested, covered)
