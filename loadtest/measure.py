"""Raw samples, exact percentiles and the per-second series.

Every HTTP request of the replay is one sample of six numbers: its intended
send time (from the schedule), when it was *ready* (due, and its lane free of
the previous request), when it was actually sent, when the answer came back
(all seconds after the replay started, ``time.perf_counter``), the events it
carried and whether it succeeded. From them:

- latency = end - start (what Locust reports),
- latency from schedule = end - intended (what the user of a device would see;
  a stalled generator or a backed-up lane cannot hide it: coordinated omission),
- schedule lag = start - ready (how late the generator itself was: timer
  precision, a starved or garbage-collecting process),
- lane wait = ready - intended (time spent behind the same lane's previous
  request, i.e. the server's slowness feeding back through per-device order).

Percentiles are exact over the raw samples (nearest rank: the smallest sample
with at least p% of the samples at or below it), not Locust's rounded buckets.
Each process keeps its samples; workers ship them to the master as bytes, and
the master shifts them by the difference of the processes' wall-clock origins.
"""

from __future__ import annotations

import math
import time
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

PERCENTILES = (50.0, 95.0, 99.0)
SERIES_COLUMNS = ("t_s", "rps", "events_per_second", "p50_ms", "p99_ms", "lag_p99_ms")


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values (NaN when empty)."""
    n = len(sorted_values)
    if n == 0:
        return math.nan
    if p <= 0:
        return float(sorted_values[0])
    rank = math.ceil(p / 100.0 * n)
    return float(sorted_values[min(max(rank, 1), n) - 1])


def percentiles(values: Iterable[float], ps: Sequence[float] = PERCENTILES) -> dict[str, float]:
    """``{"p50": ..., "p95": ..., "p99": ..., "max": ...}`` of ``values``, exact."""
    ordered = sorted(values)
    out = {f"p{p:g}": percentile(ordered, p) for p in ps}
    out["max"] = float(ordered[-1]) if ordered else math.nan
    return out


class Recorder:
    """One process's samples, in flat arrays (cheap to append and to ship)."""

    FIELDS = ("intended", "ready", "start", "end", "events", "ok")

    def __init__(self, origin_wall: float | None = None, origin_perf: float | None = None) -> None:
        self.origin_wall = time.time() if origin_wall is None else origin_wall
        self.origin_perf = time.perf_counter() if origin_perf is None else origin_perf
        self.intended = array("d")
        self.ready = array("d")
        self.start = array("d")
        self.end = array("d")
        self.events = array("l")
        self.ok = array("b")
        self.planned_events = 0
        self.planned_batches = 0
        self._shipped = 0
        self._shipped_planned = False

    def __len__(self) -> int:
        return len(self.end)

    def now(self) -> float:
        """Seconds since this recorder's origin."""
        return time.perf_counter() - self.origin_perf

    def add(
        self,
        intended: float,
        start: float,
        end: float,
        events: int,
        ok: bool,
        ready: float | None = None,
    ) -> None:
        """One request; ``ready`` defaults to ``intended`` (the lane was free)."""
        self.intended.append(intended)
        self.ready.append(intended if ready is None else ready)
        self.start.append(start)
        self.end.append(end)
        self.events.append(events)
        self.ok.append(1 if ok else 0)

    def extend(self, other: Recorder) -> None:
        """Merge ``other``'s samples, shifted onto this recorder's clock."""
        shift = other.origin_wall - self.origin_wall
        self.intended.extend(v + shift for v in other.intended)
        self.ready.extend(v + shift for v in other.ready)
        self.start.extend(v + shift for v in other.start)
        self.end.extend(v + shift for v in other.end)
        self.events.extend(other.events)
        self.ok.extend(other.ok)
        self.planned_events += other.planned_events
        self.planned_batches += other.planned_batches

    def take_unshipped(self) -> dict[str, Any]:
        """Samples not yet shipped to the master, as a msgpack-friendly dict."""
        lo, hi = self._shipped, len(self.end)
        first = self._shipped_planned is False
        self._shipped, self._shipped_planned = hi, True
        return {
            "origin_wall": self.origin_wall,
            "planned_events": self.planned_events if first else 0,
            "planned_batches": self.planned_batches if first else 0,
            **{name: getattr(self, name)[lo:hi].tobytes() for name in self.FIELDS},
        }

    @classmethod
    def from_shipment(cls, data: dict[str, Any]) -> Recorder:
        rec = cls(origin_wall=float(data["origin_wall"]), origin_perf=0.0)
        rec.planned_events = int(data.get("planned_events", 0))
        rec.planned_batches = int(data.get("planned_batches", 0))
        for name in cls.FIELDS:
            getattr(rec, name).frombytes(data[name])
        return rec

    # -- results -------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The numbers of ``loadtest.json`` (times in ms, rates per second)."""
        n = len(self.end)
        events = sum(e for e, ok in zip(self.events, self.ok, strict=True) if ok)
        failures = n - sum(self.ok)
        duration = (max(self.end) - min(self.start)) if n else 0.0
        latency = [(e - s) * 1000.0 for s, e in zip(self.start, self.end, strict=True)]
        scheduled = [(e - i) * 1000.0 for i, e in zip(self.intended, self.end, strict=True)]
        lag = [max(0.0, (s - r) * 1000.0) for r, s in zip(self.ready, self.start, strict=True)]
        wait = [max(0.0, (r - i) * 1000.0) for i, r in zip(self.intended, self.ready, strict=True)]
        return {
            "requests": n,
            "events": events,
            "failures": failures,
            "fail_ratio": failures / n if n else 0.0,
            "duration_s": duration,
            "rps": n / duration if duration > 0 else 0.0,
            "events_per_second": events / duration if duration > 0 else 0.0,
            "planned_events": self.planned_events,
            "planned_batches": self.planned_batches,
            "latency_ms": percentiles(latency),
            "latency_from_schedule_ms": percentiles(scheduled),
            "schedule_lag_ms": percentiles(lag, (50.0, 99.0)),
            "lane_wait_ms": percentiles(wait, (50.0, 99.0)),
        }

    def series(self, bin_seconds: float = 1.0) -> list[dict[str, float]]:
        """Per-``bin_seconds`` rows (by completion time) with the report's columns."""
        if not len(self.end):
            return []
        first = min(self.start)
        bins: dict[int, list[int]] = {}
        for index, end in enumerate(self.end):
            bins.setdefault(int((end - first) / bin_seconds), []).append(index)
        rows = []
        for b in range(max(bins) + 1):
            members = bins.get(b, [])
            lat = sorted((self.end[i] - self.start[i]) * 1000.0 for i in members)
            lag = sorted(max(0.0, (self.start[i] - self.ready[i]) * 1000.0) for i in members)
            events = sum(self.events[i] for i in members if self.ok[i])
            rows.append(
                {
                    "t_s": (b + 1) * bin_seconds,
                    "rps": len(members) / bin_seconds,
                    "events_per_second": events / bin_seconds,
                    "p50_ms": percentile(lat, 50.0),
                    "p99_ms": percentile(lat, 99.0),
                    "lag_p99_ms": percentile(lag, 99.0),
                }
            )
        return rows


def write_series(path: Any, rows: list[dict[str, float]]) -> None:
    """``loadtest_timeseries.csv`` (empty cells for NaN)."""
    lines = [",".join(SERIES_COLUMNS)]
    for row in rows:
        cells = []
        for column in SERIES_COLUMNS:
            value = row[column]
            cells.append("" if math.isnan(value) else f"{value:.3f}".rstrip("0").rstrip("."))
        lines.append(",".join(cells))
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def rounded(value: Any, digits: int = 3) -> Any:
    """JSON-friendly: floats rounded, NaN as None, nested dicts too."""
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, digits)
    return value
