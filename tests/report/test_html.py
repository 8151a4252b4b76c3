"""build_report on the fixture run folder: every section, valid embedded PNGs, the CLI."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from sim.report import build_report
from sim.report.readers import ReportInputError

SECTIONS = (
    "headline",
    "day-in-the-life",
    "device-switches",
    "switching-per-day",
    "simulated-vs-published",
    "funnel",
    "journeys",
    "attribution",
    "journey-metrics",
    "stitching",
    "messages",
    "experiments",
    "load-test",
    "score-your-stack",
)
IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" width="(\d+)"')


def images(page: str) -> list[bytes]:
    return [base64.b64decode(data, validate=True) for data, _ in IMAGE.findall(page)]


def test_report_has_every_section_and_valid_pngs(run_dir: Path) -> None:
    path = build_report(run_dir)
    assert path == run_dir / "report.html"
    page = path.read_text(encoding="utf-8")
    for key in SECTIONS:
        assert f'id="{key}"' in page, key
    pngs = images(page)
    assert len(pngs) == 16  # 3 days in the life, 9 one-figure sections, 2 journey metrics, 2 load
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in pngs)
    assert page.count("How to read:") == len(pngs)
    assert "1 threshold(s) failed:</b> realism.switch_rate" in page
    assert "FAILED" in page and "fixture-small" in page
    assert "<th>speed</th><td>1,440</td>" in page
    assert "<th>trace</th><td>population/trace.jsonl.gz</td>" in page
    assert "Not in this run" not in page


def test_score_your_stack_names_this_run_folder(run_dir: Path) -> None:
    page = build_report(run_dir).read_text(encoding="utf-8")
    section = page[page.index('id="score-your-stack"') :]
    assert f"hopsim export {run_dir} --to {run_dir / 'warehouse.duckdb'}" in section
    assert f"hopsim score {run_dir} --profiles {run_dir / 'warehouse.duckdb'}:TABLE" in section
    assert "person level first" in section and "household level beside it" in section


def test_report_is_self_contained(run_dir: Path) -> None:
    page = build_report(run_dir).read_text(encoding="utf-8")
    assert "<script" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert '<link rel="stylesheet"' not in page


def test_missing_files_skip_their_sections(run_dir: Path) -> None:
    for name in ("trace.jsonl.gz", "messages.jsonl", "loadtest.json", "loadtest_timeseries.csv"):
        (run_dir / name).unlink()
    page = build_report(run_dir).read_text(encoding="utf-8")
    assert 'id="day-in-the-life"' not in page and 'id="load-test"' not in page
    assert 'id="funnel"' in page and 'id="stitching"' in page
    assert "Not in this run" in page
    assert "trace.jsonl.gz not in the run folder" in page
    assert "loadtest.json not in the run folder" in page
    assert 'id="messages"' in page  # the summary's messaging numbers still show


def test_empty_folder_still_gives_a_page(tmp_path: Path) -> None:
    page = build_report(tmp_path).read_text(encoding="utf-8")
    assert "Headline" in page and images(page) == []


def test_not_a_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="not a run folder"):
        build_report(tmp_path / "nope")


def test_hopsim_report_command(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import main

    assert main(["report", str(run_dir)]) == 0
    assert capsys.readouterr().out.strip() == str(run_dir / "report.html")
    (run_dir / "summary.json").write_text("{")
    assert main(["report", str(run_dir)]) == 2
    assert "summary.json: invalid JSON" in capsys.readouterr().err
