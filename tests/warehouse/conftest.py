"""A real small run (40 persons x 2 days) shared by the export and score tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "small"
    argv = ["run", str(ROOT / "scenarios" / "population.toml"), "--persons", "40", "--days", "2"]
    assert main([*argv, "--seed", "11", "--out", str(out), "--quiet", "--no-report"]) == 0
    return out
