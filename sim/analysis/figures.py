"""One row of the realism table: a simulated figure beside the published one.

A realism figure is an *outcome* of the simulation (what the simulated people
did) set beside what a published study measured, with the band the study
supports. ``within`` says whether the simulated value falls in that band. The
band comes from the source and is never widened to fit. ``n`` is the number
of simulated cases the value is counted over (sessions, carts, messages,
adults), so a reader can tell a miss from the run's own sampling noise.

Two verdicts stand side by side. ``within`` is strict: the simulated value
lies inside the published band; the headline count is of these. ``consistent``
asks the softer question a small sample allows: does the 95% sampling interval
of the simulated value (``interval``, Wilson's score interval for a
proportion, other intervals as each row's module says) overlap the band?
A row that is consistent but not within missed by no more than its own
sampling noise; a row that is neither missed for a reason worth finding.
Rows without an interval (peak hours) have ``consistent`` null.

A third mark says what kind of agreement a row is. ``fitted`` names the free
parameter (``"<data file> <key>"``) that was set so the row lands in its
band: such a row is calibration, and its agreement proves only that the knob
was turned; a row with ``fitted`` null is validation, an outcome of
mechanisms and sourced inputs that no one aimed at it.

Every realism module returns a list of :class:`Figure`; the run puts
``[figure.as_row() for figure in figures]`` into ``summary.json`` under
``realism.figures`` and the report draws the same rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sim.analysis.compare import Z95
from sim.analysis.compare import wilson as score_interval


@dataclass(frozen=True)
class Figure:
    """A simulated figure, its definition, and the published value with its band."""

    name: str
    definition: str
    value: float | None  # None when the run had nothing to measure it on
    published: float
    low: float
    high: float
    source: str
    n: int | None = None  # the simulated sample the value is counted over, when it has one
    interval: tuple[float, float] | None = None  # 95% sampling interval of the value
    fitted: str | None = None  # "<data file> <key>" when a free parameter was set to land it

    @property
    def within(self) -> bool:
        return self.value is not None and self.low <= self.value <= self.high

    @property
    def consistent(self) -> bool | None:
        """Does the 95% sampling interval overlap the band? None without an interval."""
        if self.interval is None:
            return None
        return self.interval[0] <= self.high and self.interval[1] >= self.low

    def as_row(self) -> dict[str, Any]:
        """The ``realism.figures`` entry of ``summary.json``."""
        value = None if self.value is None else round(self.value, 4)
        return {
            "name": self.name,
            "definition": self.definition,
            "value": value,
            "published": self.published,
            "low": self.low,
            "high": self.high,
            "source": self.source,
            "within": self.within,
            "n": self.n,
            "interval": None if self.interval is None else [round(x, 4) for x in self.interval],
            "consistent": self.consistent,
            "fitted": self.fitted,
        }


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson's score interval for ``hits`` successes in ``n`` trials (None when n is 0).

    Better than value +/- z * standard error at the small counts and rates
    near 0 these rows have (2 % push opens of 400 pushes): it never leaves
    [0, 1] and keeps its coverage. The interval is compare's; this adds the
    exact ends at 0 and n hits and "no interval" for no trials.
    """
    if n <= 0:
        return None
    low, high = score_interval(hits, n, z)
    return (0.0 if hits <= 0 else low), (1.0 if hits >= n else high)  # no rounding residue


def mean_interval(values: list[float], z: float = Z95) -> tuple[float, float] | None:
    """Normal-approximation interval of the mean of ``values`` (None with fewer than two)."""
    n = len(values)
    if n < 2:
        return None
    mean = sum(values) / n
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = z * math.sqrt(variance / n)
    return mean - half, mean + half


def count_ratio_interval(part: int, whole: int, z: float = Z95) -> tuple[float, float] | None:
    """Interval of ``part / whole`` for two independent Poisson counts (log scale, delta method).

    The night share is one hour's pick-ups over another hour's: both counts
    are noisy, and the log of their ratio has variance about 1/part + 1/whole.
    """
    if part <= 0 or whole <= 0:
        return None
    ratio = part / whole
    half = z * math.sqrt(1 / part + 1 / whole)
    return ratio * math.exp(-half), ratio * math.exp(half)
