"""Fixtures of the report tests: a copy of the tiny run folder per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "run_small"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/run_small."""
    target = tmp_path / "run_small"
    shutil.copytree(FIXTURE, target, ignore=shutil.ignore_patterns("*.py", "report.html"))
    return target
