"""The headline table: what ran, the key numbers, and thresholds."""

from __future__ import annotations

import math
from typing import Any

from sim.report import tables as t

WHAT_RAN = ("scenario", "seed", "persons", "households", "devices", "days")
KEY_NUMBERS = (
    ("events", "events"),
    ("wall_seconds", "wall time (s)"),
    ("events_per_second", "events/s"),
    ("realism.switch_rate", "switch rate (person-days on 2+ devices)"),
    ("stitching.f05", "stitching F0.5"),
    ("stitching.bcubed_f1", "stitching B-cubed F1"),
    ("stitching.never_identified_share", "devices never identified"),
    ("messaging.sent", "messages sent"),
    ("messaging.conversions", "conversions after a message"),
    ("messaging.quiet_hours_violations", "quiet-hours violations"),
)


def lookup(block: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(block, dict):
            return None
        block = block.get(part)
    return block


def headline_rows(tables: t.Tables) -> list[tuple[str, str]]:
    summary = tables.summary or {}
    rows = [(key, fmt(summary.get(key))) for key in WHAT_RAN if summary.get(key) is not None]
    if "days" not in summary and tables.trace and tables.trace.first_at is not None:
        span = (tables.trace.last_at or tables.trace.first_at) - tables.trace.first_at
        rows.append(("days (trace span)", fmt(max(1, math.ceil(span / 86400)))))
    rows += [
        (label, fmt(lookup(summary, key)))
        for key, label in KEY_NUMBERS
        if lookup(summary, key) is not None
    ]
    if tables.trace is not None and "events" not in summary:
        rows.append(("events (trace)", fmt(tables.trace.events)))
    if tables.load is not None:
        rows += _load_rows(tables.load)
    return rows


def _load_rows(load: Any) -> list[tuple[str, str]]:
    rows = [(f"load test {key}", fmt(value)) for key, value in load.numbers.items()]
    if "p99" in load.latency_ms:
        rows.append(("load test latency p99 (ms)", fmt(load.latency_ms["p99"])))
    if "p99" in load.schedule_lag_ms:
        rows.append(("load test schedule lag p99 (ms)", fmt(load.schedule_lag_ms["p99"])))
    return rows


def fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return "" if value is None else str(value)
