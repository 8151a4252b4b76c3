"""The small commands: validate and personas."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import COMMANDS, main

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


def test_the_command_list_is_the_command_modules(capsys: pytest.CaptureFixture[str]) -> None:
    """Every listed command has a module, every command module is listed and shown in --help."""
    modules = {p.stem for p in (ROOT / "sim/commands").glob("*.py")} - {"__init__", "common"}
    assert set(COMMANDS) == modules
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    listed = [
        line.split()[0] for line in capsys.readouterr().out.splitlines() if line[:4] == " " * 4
    ]
    assert [name for name in listed if name in modules] == list(COMMANDS)


def test_every_command_answers_help(capsys: pytest.CaptureFixture[str]) -> None:
    for name in COMMANDS:
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        assert exit_.value.code == 0
        assert f"hopsim {name}" in capsys.readouterr().out
