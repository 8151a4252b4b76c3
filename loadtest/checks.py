"""CI thresholds: the summary against ``--check-*`` limits, and the exit code.

- ``p99_ms``: the 99th percentile latency must be at most the target. By
  default it is the latency from the intended send time (``--check-latency
  schedule``), the honest one; ``send`` checks the plain response time.
- ``fail_ratio``: failed requests / requests at most the target.
- ``events_per_second``: accepted events per second at least the target.

A run with no requests fails every check it has (nothing was proven).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

LATENCY_KEYS = {"schedule": "latency_from_schedule_ms", "send": "latency_ms"}


@dataclass(frozen=True)
class Check:
    name: str
    value: float
    target: float
    ok: bool
    higher_is_better: bool = False

    def as_dict(self) -> dict[str, Any]:
        value = None if math.isnan(self.value) else round(self.value, 4)
        return {"name": self.name, "value": value, "target": self.target, "ok": self.ok}

    def describe(self) -> str:
        relation = ">=" if self.higher_is_better else "<="
        verdict = "ok" if self.ok else "FAILED"
        return f"{self.name} {self.value:.4g} (target {relation} {self.target:g}): {verdict}"


def evaluate(
    summary: dict[str, Any],
    *,
    p99_ms: float | None = None,
    fail_ratio: float | None = None,
    eps: float | None = None,
    latency: str = "schedule",
) -> list[Check]:
    """The checks that have a target, in a fixed order."""
    if latency not in LATENCY_KEYS:
        raise ValueError(f"latency must be one of {', '.join(LATENCY_KEYS)}")
    requests = int(summary.get("requests", 0))
    checks: list[Check] = []
    if p99_ms is not None:
        value = float(summary.get(LATENCY_KEYS[latency], {}).get("p99", math.nan))
        ok = requests > 0 and not math.isnan(value) and value <= p99_ms
        checks.append(Check("p99_ms", value, p99_ms, ok))
    if fail_ratio is not None:
        value = float(summary.get("fail_ratio", math.nan)) if requests else math.nan
        ok = requests > 0 and value <= fail_ratio
        checks.append(Check("fail_ratio", value, fail_ratio, ok))
    if eps is not None:
        value = float(summary.get("events_per_second", 0.0))
        checks.append(Check("events_per_second", value, eps, requests > 0 and value >= eps, True))
    return checks


def exit_code(checks: list[Check]) -> int | None:
    """None without checks (leave Locust's own code), else 0 when all pass, 1 otherwise."""
    if not checks:
        return None
    return 0 if all(check.ok for check in checks) else 1
