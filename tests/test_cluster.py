"""Shards as actors on a local Dask cluster: the same bytes as one process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main
from sim.runner import Run
from sim.runner.workers import deal
from sim.world.scenario import load_scenario
from tests.run_folder import folder_bytes

POPULATION = Path(__file__).resolve().parents[1] / "scenarios" / "population.toml"
pytest.importorskip(
    "distributed", reason="the cluster extra is not installed (pip install 'hopsim[cluster]')"
)
pytestmark = pytest.mark.slow


def run(out: Path, *extra: str) -> dict[str, object]:
    argv = ["run", str(POPULATION), "--persons", "40", "--days", "2", "--seed", "7"]
    assert main([*argv, "--out", str(out), "--quiet", "--no-report", *extra]) == 0
    summary: dict[str, object] = json.loads((out / "summary.json").read_text())
    return summary


def test_a_local_two_worker_cluster_writes_the_bytes_of_one_process(tmp_path: Path) -> None:
    one = run(tmp_path / "one", "--workers", "1")
    two = run(tmp_path / "cluster", "--cluster", "local", "--workers", "2")
    assert two["workers"] == 2
    assert one["messaging"]["sent"] > 0  # type: ignore[index]  # campaigns ran, messages compared
    same, cluster = folder_bytes(tmp_path / "one"), folder_bytes(tmp_path / "cluster")
    assert same.keys() == cluster.keys()
    for name, data in same.items():
        assert cluster[name] == data, name
    assert sorted(p.name for p in (tmp_path / "cluster").iterdir()) == sorted(
        p.name for p in (tmp_path / "one").iterdir()
    )


def test_an_unreachable_scheduler_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", str(POPULATION), "--persons", "4", "--days", "1", "--workers", "1"]
    code = main([*argv, "--out", str(tmp_path / "x"), "--quiet", "--no-report",
                 "--cluster", "tcp://127.0.0.1:9"])  # fmt: skip
    assert code == 2
    assert "--cluster tcp://127.0.0.1:9: cannot reach a Dask scheduler" in capsys.readouterr().err
    assert not (tmp_path / "x" / "summary.json").exists()


def test_shards_that_never_pool_run_as_tasks_with_the_bytes_of_one_process(
    tmp_path: Path,
) -> None:
    """A one-day run dealt into more shards than workers: each shard a task a free worker
    takes (no actors, no barrier), the run folder the bytes of one process's run."""
    scenario = load_scenario(POPULATION).with_overrides(60, 1)
    assert deal(scenario, 2, batch=10).alone and deal(scenario, 2, batch=10).count == 6
    seen: list[tuple[float, int]] = []
    Run(scenario, tmp_path / "one", 1).execute()
    Run(scenario, tmp_path / "tasks", 2, cluster="local", batch=10).execute(
        lambda share, events: seen.append((share, events))
    )
    one, tasks = folder_bytes(tmp_path / "one"), folder_bytes(tmp_path / "tasks")
    assert one.keys() == tasks.keys()
    for name, data in one.items():
        assert tasks[name] == data, name
    summary = json.loads((tmp_path / "tasks" / "summary.json").read_text())
    assert [share for share, _ in seen] == [k / 6 for k in range(1, 7)]
    assert seen[-1][1] == summary["events"]
