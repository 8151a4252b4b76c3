"""`make test`, the gate `make check` and CI share: a suite that collects nothing must fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def make_test(*pytest_args: str) -> subprocess.CompletedProcess[str]:
    """`make test` with this interpreter, the venv taken as built, and extra pytest arguments."""
    command = [
        "make",
        "--no-print-directory",
        "-s",
        "test",
        "STAMP=",
        f"BIN={Path(sys.executable).parent}",
    ]
    command.append("PYTEST_ARGS=-n 0 -p no:cacheprovider " + " ".join(pytest_args))
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_make_test_fails_when_pytest_collects_nothing() -> None:
    done = make_test("-k", "no_test_is_named_like_this")
    assert done.returncode != 0
    assert "make test: pytest collected no tests" in done.stdout
    # (The other way round, chosen tests that pass make it pass: `make test` itself shows it.)
