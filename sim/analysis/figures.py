"""One row of the realism table: a simulated figure beside the published one.

A realism figure is an *outcome* of the simulation (what the simulated people
did) set beside what a published study measured, with the band the study
supports. ``within`` says whether the simulated value falls in that band. The
band comes from the source and is never widened to fit. ``n`` is the number
of simulated cases the value is counted over (sessions, carts, messages,
adults), so a reader can tell a miss from the run's own sampling noise.

Every realism module returns a list of :class:`Figure`; the run puts
``[figure.as_row() for figure in figures]`` into ``summary.json`` under
``realism.figures`` and the report draws the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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

    @property
    def within(self) -> bool:
        return self.value is not None and self.low <= self.value <= self.high

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
        }
