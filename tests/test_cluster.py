"""Shards as actors on a local Dask cluster: the same bytes as one process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main
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
