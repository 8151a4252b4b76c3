"""``hopsim run`` end to end on a tiny scenario: files, determinism, workers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from sim.analysis.journey_metrics import run_folder_metrics
from sim.analysis.metrics_config import metrics_config
from sim.analysis.stitch_costs import stitching_costs
from sim.cli import main
from sim.errors import HopsimError
from sim.runner import Run
from sim.runner.shard import Progress
from sim.trace.clock import DAY
from sim.trace.reader import read_jsonl
from sim.world.scenario import load_scenario

TINY = Path(__file__).resolve().parent / "fixtures" / "scenarios" / "tiny.toml"
POPULATION = Path(__file__).resolve().parents[1] / "scenarios" / "population.toml"


def run(out: Path, *extra: str) -> dict[str, object]:
    code = main(["run", str(TINY), "--out", str(out), "--quiet", "--no-report", *extra])
    assert code == 0
    summary: dict[str, object] = json.loads((out / "summary.json").read_text())
    return summary


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "a"
    run(out)
    return out


def test_run_folder_has_every_file(first: Path) -> None:
    for name in (
        "trace.jsonl.gz",
        "truth.jsonl.gz",
        "summary.json",
        "profiles.jsonl",
        "people.jsonl",
    ):
        assert (first / name).exists(), name
    assert not (first / ".shards").exists()


def test_summary_counts_match_the_files(first: Path) -> None:
    summary = json.loads((first / "summary.json").read_text())
    events = list(read_jsonl(first / "trace.jsonl.gz"))
    truth = list(read_jsonl(first / "truth.jsonl.gz"))
    assert summary["events"] == len(events)
    assert summary["devices"] == len(truth)
    assert sum(summary["device_types"].values()) == len(truth)
    assert summary["persons"] == 12 and summary["seed"] == 11
    assert 0.0 <= summary["realism"]["switch_rate"] <= 1.0
    assert set(summary["funnel"]) == {
        "awareness",
        "consideration",
        "purchase",
        "retention",
        "advocacy",
    }
    assert summary["funnel"]["awareness"] >= summary["funnel"]["purchase"]
    for level in ("person_level", "household_level"):
        for key in ("pairwise_precision", "pairwise_recall", "f1", "f05", "bcubed_f1", "by_rule"):
            assert key in summary["stitching"][level]
    person = summary["stitching"]["person_level"]
    for key in ("bcubed_precision", "bcubed_recall", "fused_profiles", "fused_share"):
        assert key in person
    assert {"strictly_personal", "by_device_type", "definition"} <= set(person)


def test_trace_is_ordered_and_truth_never_inside(first: Path) -> None:
    events = list(read_jsonl(first / "trace.jsonl.gz"))
    keys = [(e["timestamp"], e["messageId"]) for e in events]
    assert keys == sorted(keys)
    truth_ids = {row["household_id"] for row in read_jsonl(first / "truth.jsonl.gz")}
    raw = gzip.decompress((first / "trace.jsonl.gz").read_bytes()).decode()
    assert not any(f'"{hid}' in raw for hid in truth_ids)


def test_same_seed_same_bytes(first: Path, tmp_path: Path) -> None:
    run(tmp_path / "b")
    for name in ("trace.jsonl.gz", "truth.jsonl.gz", "profiles.jsonl"):
        assert (first / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_other_seed_other_trace(first: Path, tmp_path: Path) -> None:
    run(tmp_path / "c", "--seed", "12")
    assert (first / "trace.jsonl.gz").read_bytes() != (
        tmp_path / "c" / "trace.jsonl.gz"
    ).read_bytes()


@pytest.mark.slow
def test_two_workers_give_the_same_trace(first: Path, tmp_path: Path) -> None:
    summary = run(tmp_path / "w", "--workers", "2")
    assert summary["workers"] == 2
    for name in ("trace.jsonl.gz", "truth.jsonl.gz", "profiles.jsonl", "people.jsonl"):
        assert (first / name).read_bytes() == (tmp_path / "w" / name).read_bytes(), name


def test_run_api_honours_overrides(tmp_path: Path) -> None:
    scenario = load_scenario(TINY).with_overrides(persons=5, days=1, seed=3)
    summary = Run(scenario, tmp_path / "o").execute()
    assert summary["persons"] == 5 and summary["days"] == 1 and summary["seed"] == 3


def test_bad_scenario_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nseed = "abc"\n')
    code = main(["run", str(bad), "--out", str(tmp_path / "x"), "--quiet", "--no-report"])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.toml: seed: expected a whole number" in err


def test_run_ends_with_the_report_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "with-report"
    assert main(["run", str(TINY), "--out", str(out), "--quiet", "--days", "1"]) == 0
    assert (out / "report.html").exists()
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"report: {out / 'report.html'}"


@pytest.mark.slow
def test_two_workers_decide_the_same_messages(tmp_path: Path) -> None:
    """Campaigns too: workers pool the workspace's learning at each day's end (lockstep)."""
    scenario = load_scenario(POPULATION).with_overrides(persons=60, days=3, seed=11)
    one = Run(scenario, tmp_path / "one").execute()
    two = Run(scenario, tmp_path / "two", 2).execute()
    assert one["messaging"]["sent"] > 0
    assert one["messaging"] == two["messaging"]
    costs = stitching_costs(
        read_jsonl(tmp_path / "one" / "messages.jsonl"),
        read_jsonl(tmp_path / "one" / "truth.jsonl.gz"),
    )
    assert {k: one["messaging"][k] for k in costs} == costs
    for name in ("trace.jsonl.gz", "messages.jsonl", "profiles.jsonl", "people.jsonl"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), (
            name
        )
    # the shards' journey tallies, added up, are the metrics of the whole finished trace
    config = metrics_config(scenario)
    whole = run_folder_metrics(tmp_path / "two", scenario.start, scenario.days, config)
    assert one["journey_metrics"] == two["journey_metrics"] == json.loads(json.dumps(whole))


def test_a_failing_worker_is_named_in_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.runner.workers

    class Broken(sim.runner.workers.Shard):
        def advance(self, until: float, progress: Progress | None = None) -> None:
            if self.index == 1 and until > DAY:
                raise RuntimeError("disk full while simulating")
            super().advance(until, progress)

    monkeypatch.setattr(sim.runner.workers, "Shard", Broken)
    scenario = load_scenario(TINY).with_overrides(persons=4, days=3)
    with pytest.raises(HopsimError, match=r"worker 1 failed:(.|\n)*disk full while simulating"):
        Run(scenario, tmp_path / "x", 2).execute()


def test_the_progress_bar_shows_day_rate_memory_and_eta(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich fits the bar to the terminal; give it room
    assert main(["run", str(TINY), "--out", str(tmp_path / "p"), "--no-report"]) == 0
    bar = capsys.readouterr().out.splitlines()[0]
    assert "100.0% day 2/2" in bar, bar
    rate = float(bar.split(" person-days/s")[0].split()[-1].replace(",", ""))
    assert rate > 0, bar
    memory = float(bar.split("RSS ")[1].split(" GB")[0])
    assert 0.01 < memory < 64, bar  # this interpreter alone holds more than 10 MB
    assert " ETA " in bar, bar
