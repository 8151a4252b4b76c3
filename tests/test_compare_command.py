"""``hopsim compare`` end to end on a tiny class-hours population (20 students, 2 days)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from sim.cli import main
from sim.commands.compare import finish, force_variant

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
VARIANT_KEYS = {
    "n",
    "conversions",
    "conversion_rate",
    "ci_low",
    "ci_high",
    "lift_vs_control",
    "lift_ci_low",
    "lift_ci_high",
    "lift_paired",
    "opt_out_rate",
    "bad_context_rate",
    "messages_per_converted",
    "top_journeys",
    "funnel",
}


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compare") / "class-hours"
    argv = [
        "compare",
        str(SCENARIOS / "class-hours.toml"),
        "--persons",
        "20",
        "--days",
        "2",
        "--replicates",
        "2",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    return out


def _doc(out: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((out / "compare.json").read_text())
    return doc


def test_compare_json_has_every_field(compared: Path) -> None:
    doc = _doc(compared)
    assert doc["seeds"] == [17, 18] and doc["replicates"] == 2
    block = doc["campaigns"]["daily-deal"]
    assert block["baseline"] == "immediate" and block["has_control"] is False
    assert set(block["variants"]) == {"immediate", "optimised"}
    for row in block["variants"].values():
        assert set(row) >= VARIANT_KEYS
        assert row["n"] > 0
        assert len(row["top_journeys"]) <= 3
        assert [r["replicate"] for r in row["replicates"]] == [0, 1]
        journey = row["journey_metrics"]["overall"]  # both replicates' sessions, pooled
        assert journey["sessions"] > 0
        assert (
            journey["bounce_rate_ci_low"]
            <= journey["bounce_rate"]
            <= journey["bounce_rate_ci_high"]
        )
    assert list(doc["funnel"])[:3] == ["awareness", "consideration", "purchase"]
    assert (compared / "report.html").exists()


def test_interval_contains_the_rate(compared: Path) -> None:
    for row in _doc(compared)["campaigns"]["daily-deal"]["variants"].values():
        assert row["ci_low"] <= row["conversion_rate"] <= row["ci_high"]
        assert row["conversion_rate"] == pytest.approx(row["conversions"] / row["n"], abs=1e-6)
    optimised = _doc(compared)["campaigns"]["daily-deal"]["variants"]["optimised"]
    assert optimised["lift_ci_low"] <= optimised["lift_vs_control"] <= optimised["lift_ci_high"]


def test_arms_of_one_replicate_share_the_population(compared: Path) -> None:
    for k in (0, 1):
        a = gzip.decompress((compared / f"immediate-r{k}" / "truth.jsonl.gz").read_bytes())
        b = gzip.decompress((compared / f"optimised-r{k}" / "truth.jsonl.gz").read_bytes())
        assert a == b
        people = (compared / f"immediate-r{k}" / "people.jsonl").read_text()
        assert people == (compared / f"optimised-r{k}" / "people.jsonl").read_text()
    r0 = (compared / "immediate-r0" / "people.jsonl").read_text()
    assert r0 != (compared / "immediate-r1" / "people.jsonl").read_text()


def test_each_arm_holds_only_its_variant(compared: Path) -> None:
    for variant in ("immediate", "optimised"):
        lines = (compared / f"{variant}-r0" / "messages.jsonl").read_text().splitlines()
        assert {json.loads(line)["variant"] for line in lines} == {variant}
        assert not (compared / f"{variant}-r0" / "report.html").exists()


def test_force_variant_keeps_control_and_other_campaigns() -> None:
    campaigns: list[dict[str, Any]] = [
        {
            "name": "a",
            "variants": [{"name": "x", "share": 80}, {"name": "c", "share": 20, "control": True}],
        },
        {"name": "b", "variants": [{"name": "y", "share": 50}, {"name": "z", "share": 50}]},
    ]
    forced = force_variant(campaigns, "a", "c")
    assert forced[0]["variants"] == [
        {"name": "x", "share": 0},
        {"name": "c", "share": 100, "control": True},
    ]
    assert forced[1] == campaigns[1]
    assert campaigns[0]["variants"][0]["share"] == 80  # the original is untouched


def test_a_scenario_without_variants_is_a_user_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compare", str(SCENARIOS / "kitchen-speaker.toml"), "--persons", "2"])
    assert code == 2
    assert "two or more [[campaigns.variants]]" in capsys.readouterr().err
    assert main(["compare", str(SCENARIOS / "day-in-the-life.toml"), "--persons", "2"]) == 2


def test_both_compare_modes_finish_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Experiments and designs end the same way: compare.json, the tables, the folder."""
    shown: list[dict[str, Any]] = []
    result = {"campaigns": {}, "lift": 0.25}
    finish(result, tmp_path, shown.append, report=False)
    assert json.loads((tmp_path / "compare.json").read_text()) == result
    assert (tmp_path / "compare.json").read_text().endswith("}\n")
    assert shown == [result]
    assert capsys.readouterr().out == f"compare folder: {tmp_path}\n"
