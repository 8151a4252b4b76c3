"""The Python API: what ``hopsim run`` does, callable from an engineer's own tests.

import sim
result = sim.run("scenarios/population.toml", persons=200, days=2, seed=1)
result.summary["stitching"]["person_level"]["f05"], result.trace
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunResult:
    """A finished run: its folder, its summary and the paths of what it wrote."""

    folder: Path
    summary: dict[str, Any]

    @property
    def trace(self) -> Path:
        return self.folder / "trace.jsonl.gz"

    @property
    def truth(self) -> Path:
        return self.folder / "truth.jsonl.gz"

    @property
    def profiles(self) -> Path:
        return self.folder / "profiles.jsonl"

    @property
    def messages(self) -> Path | None:
        path = self.folder / "messages.jsonl"
        return path if path.exists() else None

    @property
    def report(self) -> Path | None:
        path = self.folder / "report.html"
        return path if path.exists() else None


def run(
    scenario: str | Path,
    *,
    persons: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    workers: int = 1,
    report: bool = False,
) -> RunResult:
    """Simulate ``scenario`` (a TOML path) and return the run folder and summary.

    Raises :class:`sim.errors.ConfigError` naming every problem in the files.
    """
    from sim.runner import Run, default_out
    from sim.world.scenario import load_scenario

    loaded = load_scenario(Path(scenario)).with_overrides(persons, days, seed)
    folder = Path(out) if out is not None else default_out(loaded)
    summary = Run(loaded, folder, workers).execute()
    if report:
        from sim.report import build_report

        build_report(folder)
    return RunResult(folder, summary)
