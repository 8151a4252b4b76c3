"""The benchmark suite behind ``make bench``.

Each ``benchmarks/bench_*.py`` module exposes ``run() -> list[Result]``.
Targets are ratios measured side by side in one run, never absolute times,
because the machines are shared and noisy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """One measured number, its unit, and the target it is held to (if any)."""

    name: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    note: str = ""

    @property
    def ok(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target
