"""The ground-truth extras `hopsim run` writes: people.jsonl, contexts.jsonl.gz, journeys.jsonl."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from sim.report import tables as t
from sim.report.readers import ReportInputError


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    text = "".join(json.dumps(row) + "\n" for row in rows)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)


def test_people_names_and_context_spans(run_dir: Path) -> None:
    write_jsonl(
        run_dir / "people.jsonl",
        [
            {
                "person_id": "p-mason",
                "name": "Mason",
                "persona": "mason",
                "named": True,
                "timezone": "America/New_York",
            },
            {
                "person_id": "p-susan",
                "name": "Susan Miller",
                "persona": "susan",
                "named": False,
                "timezone": "America/New_York",
            },
            {
                "person_id": "p-kaylee",
                "name": "Kaylee",
                "persona": "kaylee",
                "named": True,
                "timezone": "America/New_York",
            },
        ],
    )
    write_jsonl(
        run_dir / "contexts.jsonl.gz",
        [
            {
                "person_id": "p-susan",
                "context": "home.sleep",
                "start": "2026-11-02T03:00:00.000Z",
                "end": "2026-11-02T12:30:00.000Z",
            },
            {
                "person_id": "p-susan",
                "context": "home.office",
                "start": "2026-11-02T12:30:00.000Z",
                "end": "2026-11-02T22:00:00.000Z",
            },
        ],
    )
    collected = t.collect(run_dir)
    mason, susan, kaylee = collected.days
    assert (mason.name, susan.name, kaylee.name) == (
        "Mason",
        "Susan Miller (susan persona)",
        "Kaylee",
    )
    assert not susan.bands_from_sessions
    assert [(b.label, b.start_h, b.end_h) for b in susan.bands] == [
        ("home.sleep", 0.0, 7.5),
        ("home.office", 7.5, 17.0),
    ]
    # contexts.jsonl.gz replaces Context Changed events: Mason has no span in it.
    assert mason.bands_from_sessions


def test_world_journeys_replace_trace_journeys(run_dir: Path) -> None:
    write_jsonl(
        run_dir / "journeys.jsonl",
        [
            {"person_id": "p-1", "path": ["phone:search", "laptop:order"]},
            {"person_id": "p-2", "path": ["phone:search", "laptop:order"]},
            {"person_id": "p-3", "path": ["tablet:view", "tablet:order"]},
        ],
    )
    collected = t.collect(run_dir)
    assert collected.journeys_source == "journeys.jsonl"
    assert [(j.steps, j.count) for j in collected.journeys] == [
        (("phone · search", "laptop · order"), 2),
        (("tablet · view", "tablet · order"), 1),
    ]


def test_summary_top_paths_when_no_journeys_file(tmp_path: Path) -> None:
    summary = {
        "journeys": {
            "orders": 10,
            "top_paths": [{"path": ["phone:view", "laptop:order"], "orders": 4}],
        }
    }
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    collected = t.collect(tmp_path)
    assert [(j.steps, j.count, j.share) for j in collected.journeys] == [
        (("phone · view", "laptop · order"), 4, 0.4)
    ]


def test_bad_context_row_names_file_and_line(run_dir: Path) -> None:
    write_jsonl(run_dir / "contexts.jsonl.gz", [{"person_id": "p-susan", "context": "gym"}])
    with pytest.raises(ReportInputError, match=r"contexts\.jsonl\.gz: line 1"):
        t.collect(run_dir)


def test_compare_folder(tmp_path: Path) -> None:
    """What `hopsim compare` writes at the top of its folder: only compare.json."""
    row = {
        "n": 300,
        "conversions": 12,
        "conversion_rate": 0.04,
        "ci_low": 0.023,
        "ci_high": 0.069,
        "replicates": [{"replicate": 0, "exposures": 300, "converted": 12}],
    }
    compare = {
        "scenario": "abandoned-cart",
        "method": {"unit": "exposure"},
        "campaigns": {
            "cart-free-shipping": {
                "baseline": "control",
                "variants": {
                    "control": row | {"control": True, "n": 100, "conversions": 1},
                    "reminder": row | {"control": False},
                },
            }
        },
        "funnel": {
            "awareness": {"count": 90, "of_previous": None},
            "consideration": {"count": 60, "of_previous": 0.667},
        },
        "journeys": [{"path": ["push:click", "laptop:order"], "orders": 7, "share": 0.35}],
    }
    (tmp_path / "compare.json").write_text(json.dumps(compare))
    collected = t.collect(tmp_path)
    assert [(v.campaign, v.name, v.is_control, v.n) for v in collected.variants] == [
        ("cart-free-shipping", "control", True, 100),
        ("cart-free-shipping", "reminder", False, 300),
    ]
    assert t.funnel(collected) == [("awareness", 90), ("consideration", 60)]
    assert [(j.steps, j.count, j.share) for j in collected.journeys] == [
        (("push · click", "laptop · order"), 7, 0.35)
    ]
