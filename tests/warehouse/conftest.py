"""A real small run (150 persons x 4 days) shared by the export and score tests.

A retail brand sees about half a session per person a day, so the run is big
enough to hold multi-device profiles for the scoring to find.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "small"
    argv = ["run", str(ROOT / "scenarios" / "population.toml"), "--persons", "150", "--days", "4"]
    assert main([*argv, "--seed", "11", "--out", str(out), "--quiet", "--no-report"]) == 0
    return out
