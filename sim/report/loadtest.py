"""Load-test tables: ``loadtest.json`` and the per-second ``loadtest_timeseries.csv``.

When the time series is missing, Locust's own ``*_stats_history.csv`` (its
``Aggregated`` rows) gives throughput and latency, without schedule lag.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.report.readers import JsonObject, ReportInputError, read_csv_numbers, read_json

SERIES_FILE = "loadtest_timeseries.csv"
SERIES_COLUMNS = ("t_s", "rps", "events_per_second", "p50_ms", "p99_ms", "lag_p99_ms")
PERCENTILES = ("p50", "p95", "p99", "max")
LOAD_NUMBERS = (
    "requests",
    "events",
    "failures",
    "fail_ratio",
    "duration_s",
    "rps",
    "events_per_second",
)


@dataclass(frozen=True)
class LoadSummary:
    numbers: dict[str, float]
    latency_ms: dict[str, float]
    from_schedule_ms: dict[str, float]
    schedule_lag_ms: dict[str, float]
    checks: Any = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadSeries:
    columns: dict[str, list[float]] = field(default_factory=dict)
    source: str = SERIES_FILE

    def has(self, name: str) -> bool:
        values = self.columns.get(name, [])
        return any(not math.isnan(v) for v in values)


def read_summary(path: Path) -> LoadSummary | None:
    data = read_json(path)
    if data is None:
        return None
    numbers = {
        key: float(data[key]) for key in LOAD_NUMBERS if isinstance(data.get(key), int | float)
    }
    return LoadSummary(
        numbers,
        _percentiles(path, data, "latency_ms"),
        _percentiles(path, data, "latency_from_schedule_ms"),
        _percentiles(path, data, "schedule_lag_ms"),
        data.get("checks", data.get("thresholds")),
        data["options"] if isinstance(data.get("options"), dict) else {},
    )


def _percentiles(path: Path, data: JsonObject, key: str) -> dict[str, float]:
    block = data.get(key)
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise ReportInputError(f"{path}: key {key!r}: expected an object of percentiles")
    return {k: float(v) for k, v in block.items() if isinstance(v, int | float)}


def read_series(run_dir: Path) -> LoadSeries | None:
    columns = read_csv_numbers(run_dir / SERIES_FILE, SERIES_COLUMNS)
    if columns is not None:
        return LoadSeries(columns)
    history = sorted(run_dir.glob("*_stats_history.csv"))
    return read_locust_history(history[0]) if history else None


def read_locust_history(path: Path) -> LoadSeries | None:
    """Locust's stats history: one ``Aggregated`` row per second."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("Name") == "Aggregated"]
    if not rows:
        return None
    try:
        stamps = [float(row["Timestamp"]) for row in rows]
        columns = {
            "t_s": [t - stamps[0] for t in stamps],
            "rps": [_float(row.get("Requests/s")) for row in rows],
            "p50_ms": [_float(row.get("50%")) for row in rows],
            "p99_ms": [_float(row.get("99%")) for row in rows],
        }
    except (KeyError, ValueError) as exc:
        raise ReportInputError(f"{path}: unexpected Locust stats history: {exc}") from exc
    nan = [math.nan] * len(rows)
    columns |= {"events_per_second": nan, "lag_p99_ms": nan}
    return LoadSeries(columns, path.name)


def _float(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "", "N/A") else math.nan
    except ValueError:
        return math.nan
