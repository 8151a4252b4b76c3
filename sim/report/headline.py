"""The headline table: what ran, the key numbers, and thresholds."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import sim.report.tables as t
from sim.report.loadtest import LoadSummary

WHAT_RAN = ("scenario", "seed", "persons", "households", "devices", "days")
KEY_NUMBERS = (
    ("events", "events"),
    ("wall_seconds", "wall time (s)"),
    ("events_per_second", "events/s"),
    ("realism.switch_rate", "switch rate (person-days on 2+ devices)"),
    (
        "stitching.person_level.f05",
        "stitching F0.5, person level (owned devices with their owner, ICDM 2015)",
    ),
    ("stitching.person_level.bcubed_f1", "stitching B-cubed F1, person level"),
    ("stitching.person_level.fused_share", "person profiles fusing 2+ people"),
    (
        "stitching.household_level.f05",
        "stitching F0.5, household level (shared devices scored to their household)",
    ),
    ("stitching.household_level.bcubed_f1", "stitching B-cubed F1, household level"),
    ("stitching.f05", "stitching F0.5 (household level, older summary)"),
    ("stitching.bcubed_f1", "stitching B-cubed F1 (household level, older summary)"),
    ("stitching.never_identified_share", "devices never identified"),
    ("messaging.sent", "messages sent"),
    ("messaging.conversions", "conversions after a message"),
    ("messaging.quiet_hours_violations", "quiet-hours violations"),
    ("messaging.split_profile_repeats", "repeats to one person split over two profiles"),
    ("messaging.fused_profile_sends", "sends from a fused profile to another person"),
)


def lookup(block: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(block, dict):
            return None
        block = block.get(part)
    return block


Rows = list[tuple[str, str]]


def headline_groups(tables: t.Tables) -> dict[str, Rows]:
    """ "What ran", "Key numbers" and "Load test" rows; empty groups left out."""
    groups = {
        "What ran": what_ran(tables),
        "Key numbers": key_numbers(tables),
        "Load test": _load_rows(tables.load) if tables.load is not None else [],
    }
    return {name: rows for name, rows in groups.items() if rows}


def what_ran(tables: t.Tables) -> Rows:
    summary = tables.summary or {}
    rows = [
        (key, str(summary[key]) if key == "seed" else fmt(summary[key]))
        for key in WHAT_RAN
        if summary.get(key) is not None
    ]
    if "days" not in summary and tables.trace and tables.trace.first_at is not None:
        span = (tables.trace.last_at or tables.trace.first_at) - tables.trace.first_at
        rows.append(("days (trace span)", fmt(max(1, math.ceil(span / 86400)))))
    return rows


def key_numbers(tables: t.Tables) -> Rows:
    summary = tables.summary or {}
    rows: Rows = []
    rows += [
        (label, fmt(lookup(summary, key)))
        for key, label in KEY_NUMBERS
        if lookup(summary, key) is not None
    ]
    if tables.trace is not None and "events" not in summary:
        rows.append(("events (trace)", fmt(tables.trace.events)))
    return rows


LOAD_OPTIONS = ("trace", "host", "speed", "processes")


def _load_rows(load: LoadSummary) -> Rows:
    rows = [(key, _option(key, load.options[key])) for key in LOAD_OPTIONS if key in load.options]
    rows += [(key.replace("_", " "), fmt(value)) for key, value in load.numbers.items()]
    if "p99" in load.latency_ms:
        rows.append(("latency p99 (ms)", fmt(load.latency_ms["p99"])))
    if "p99" in load.from_schedule_ms:
        rows.append(("latency from schedule p99 (ms)", fmt(load.from_schedule_ms["p99"])))
    if "p99" in load.schedule_lag_ms:
        rows.append(("schedule lag p99 (ms)", fmt(load.schedule_lag_ms["p99"])))
    return rows


def _option(key: str, value: Any) -> str:
    """Options as given; a trace path shortened to its run folder and file."""
    if key == "trace" and isinstance(value, str):
        return "/".join(Path(value).parts[-2:])
    return fmt(value)


def fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() or abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    return "" if value is None else str(value)
