"""The small commands: validate and personas."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_validate_ok_files(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "validate",
            str(ROOT / "tests/fixtures/personas/solo.toml"),
            str(ROOT / "tests/fixtures/scenarios/tiny.toml"),
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.count(": ok") == 2


def test_validate_names_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text('name = "p"\n[[devices]]\ntype = "fridge"\n')
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert (
        "devices[0].type: expected one of phone tablet laptop watch car tv speaker, got 'fridge'"
        in out
    )
    assert "routine.weekday" in out and "lifecycle" in out


def test_validate_reports_broken_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "s.toml"
    bad.write_text("name = \n")
    assert main(["validate", str(bad)]) == 1
    assert "not valid TOML" in capsys.readouterr().out


def test_personas_lists_the_seed_personas(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["personas"]) == 0
    out = capsys.readouterr().out
    for name in ("mason", "susan", "kaylee"):
        assert name in out
    assert "Echo Dot" in out
