"""Shards as actors on a local Dask cluster: the same bytes as one process."""

from __future__ import annotations

import json
import pickle
import re
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import pytest

from sim.cli import main
from sim.engine.engine import load_identity_config
from sim.engine.identity import IdentityGraph
from sim.errors import HopsimError
from sim.runner import Run
from sim.runner.cluster import QUIET, ClusterWorkers, local_cluster, unpickled_result
from sim.runner.failed import WorkerFailed
from sim.runner.relay import FAILED, PROCESSES, pickled_class, release, run_alone
from sim.runner.shard import ShardResult
from sim.runner.workers import deal, run_held
from sim.world.scenario import Scenario, load_scenario
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


def test_a_dask_worker_relays_bytes_and_imports_nothing_of_the_world(tmp_path: Path) -> None:
    """A one-day run dealt into more shards than workers, each shard a task a free worker
    takes (no actors, no barrier), on a cluster that outlives the run: the bytes of one
    process's run, the bar moving shard by shard, while the Dask workers only carried the
    scenario and the results as bytes (they never imported the world, nor the runner's
    shard), kept their housekeeping at the local cluster's slow pace, and have no process of
    the run left."""
    import distributed

    scenario = load_scenario(POPULATION).with_overrides(60, 1)
    assert deal(scenario, 2, batch=10).alone and deal(scenario, 2, batch=10).count == 6
    seen: list[tuple[float, int]] = []
    Run(scenario, tmp_path / "one", 1).execute()
    with local_cluster(2) as cluster, distributed.Client(cluster.scheduler_address) as watcher:
        address = cluster.scheduler_address
        Run(scenario, tmp_path / "tasks", 2, cluster=address, batch=10).execute(
            lambda share, events: seen.append((share, events))
        )
        # A lambda goes by value: a function of this file would import it (and the world) there.
        imported = watcher.run(lambda: sorted(n for n in sys.modules if n.split(".")[0] == "sim"))
        assert len(imported) == 2
        for names in imported.values():
            assert "sim.runner.relay" in names  # the tasks ran here
            assert not [n for n in names if n.startswith(("sim.world", "sim.runner.shard"))]
        ticks = watcher.run(
            lambda: __import__("dask").config.get("distributed.admin.tick.interval")
        )
        assert set(ticks.values()) == {QUIET["distributed.admin.tick.interval"]}
        assert set(watcher.run(descendant_count).values()) == {0}
    one, tasks = folder_bytes(tmp_path / "one"), folder_bytes(tmp_path / "tasks")
    assert one.keys() == tasks.keys()
    for name, data in one.items():
        assert tasks[name] == data, name
    summary = json.loads((tmp_path / "tasks" / "summary.json").read_text())
    assert [share for share, _ in seen] == [k / 6 for k in range(1, 7)]
    assert seen[-1][1] == summary["events"]


def test_a_pickle_names_its_class_before_it_is_opened() -> None:
    """The relay tells a worker's failure from a result by the pickle's first global alone."""
    failed = pickle.dumps(WorkerFailed("Traceback ..."))
    assert pickled_class(failed) == FAILED == "sim.runner.failed.WorkerFailed"
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        assert pickled_class(pickle.dumps(WorkerFailed("x"), protocol=protocol)) == FAILED
    result = ShardResult(index=3, trace=Path("t"), events=0, wall_seconds=0.0)
    assert pickled_class(pickle.dumps(result)) == "sim.runner.shard.ShardResult"
    assert pickled_class(pickle.dumps(None)) == pickled_class(pickle.dumps(7)) == ""
    assert unpickled_result("w", 3, pickle.dumps(result)) == result
    with pytest.raises(HopsimError, match="w, on shard 3, sent NoneType, not its result"):
        unpickled_result("w", 3, pickle.dumps(None))
    with pytest.raises(HopsimError, match="w, on shard 2, sent shard 3's result"):
        unpickled_result("w", 2, pickle.dumps(result))  # never merged as another shard's
    for protocol in (0, 1):  # no Connection sends these: read as no class, never as a failure
        assert pickled_class(pickle.dumps(WorkerFailed("x"), protocol=protocol)) == ""
    assert pickled_class(b"") == pickled_class(failed[:9]) == ""


def test_a_worker_process_that_cannot_open_the_run_says_why(tmp_path: Path) -> None:
    """A Dask worker's host first opens the world in its worker process (a missing package,
    another hopsim version): the traceback comes back as the shard's failure, not only to the
    host's stderr, and nothing is left."""
    before = pids()
    token = uuid.uuid4().hex
    with pytest.raises(HopsimError, match=r"on shard 0, failed:\n(.|\n)*UnpicklingError"):
        run_alone(b"\x80\x05not the run's scenario", token, 0, 2, 1)
    assert release(token) == 0  # the failed worker process is not kept
    assert not descendants(before)


def test_a_worker_process_killed_while_idle_is_not_lent_again(tmp_path: Path) -> None:
    """The out-of-memory killer takes an idle worker process between two shards of a run:
    the next shard gets a new one and the run goes on."""
    scenario = load_scenario(POPULATION).with_overrides(60, 1)
    before = pids()
    token = uuid.uuid4().hex
    shipped = payload(scenario, tmp_path)
    assert opened(run_alone(shipped, token, 0, 2, 1), 0).events > 0
    idle = PROCESSES[token][0].process
    idle.kill()
    idle.wait()
    assert opened(run_alone(shipped, token, 1, 2, 1), 1).events > 0
    assert release(token) == 1  # the new one; the dead one was dropped
    assert not descendants(before)


def payload(scenario: Scenario, parts: Path) -> bytes:
    """A run's scenario and parts folder as the runner ships them to its tasks."""
    return pickle.dumps((scenario, parts))


def opened(answer: tuple[str, bytes], index: int) -> ShardResult:
    """A task's answer for shard ``index`` (who ran it, its result pickled) as the runner opens it."""
    name, data = answer
    return unpickled_result(name, index, data)


def shard_pieces(parts: Path, index: int) -> dict[str, bytes]:
    """What shard ``index`` wrote into ``parts``: its trace part, context log and table piles."""
    return {p.name: p.read_bytes() for p in sorted(parts.glob(f"*-{index}*")) if p.is_file()}


def profiles(result: ShardResult, scenario: Scenario) -> list[dict[str, Any]]:
    """The stitched profiles of a shard's identity graph alone."""
    assert result.identity is not None
    graph = IdentityGraph.absorb([result.identity], load_identity_config(dict(scenario.identity)))
    graph.finalize()
    return [p.as_json() for p in graph.profiles()]


def descendants(before: set[int]) -> list[psutil.Process]:
    """This process's descendants alive now that were not in ``before`` (pids): another test's
    cluster may have left a helper of its own (multiprocessing's resource tracker)."""
    alive = psutil.Process().children(recursive=True)
    return [
        p
        for p in alive
        if p.pid not in before and p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    ]


def pids() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def test_a_task_runs_its_shard_as_a_local_worker_does_with_the_same_result(
    tmp_path: Path,
) -> None:
    """The task's trick (a worker process of its own forks a child per shard) against the
    shard built, run through and let go in the task's own process: the same pieces on disk,
    the same tables handed back; released, the worker process is gone."""
    scenario = load_scenario(POPULATION).with_overrides(60, 1)
    before = pids()
    held = run_held(scenario, tmp_path / "held", 1, 3, 1, lambda piece: None)
    token = uuid.uuid4().hex
    shipped = payload(scenario, tmp_path / "apart")
    apart = [opened(run_alone(shipped, token, k, 3, 1), k) for k in (1, 2)]
    assert release(token) == 1  # one worker process ran both shards
    assert not descendants(before)
    assert apart[0].events == held.events > 0
    assert profiles(apart[0], scenario) == profiles(held, scenario)
    assert apart[0].tallies == held.tallies
    assert shard_pieces(tmp_path / "apart", 1) == shard_pieces(tmp_path / "held", 1)


def in_a_thread(scenario: Scenario, parts: Path) -> tuple[threading.Thread, list[BaseException]]:
    """``run_alone`` of shard 0 of 2 in a thread, as a Dask worker runs it; what it raised."""
    raised: list[BaseException] = []

    def task() -> None:
        try:
            run_alone(payload(scenario, parts), parts.name, 0, 2, 1)
        except BaseException as exc:  # handed to the test
            raised.append(exc)

    thread = threading.Thread(target=task)
    thread.start()
    return thread, raised


def shard_child(parts: Path, deadline: float = 120.0) -> psutil.Process:
    """The child this run's worker process forked for its shard, once it has one."""
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        for worker in PROCESSES.get(parts.name, []):
            children = psutil.Process(worker.process.pid).children()
            if children:
                return children[0]
        time.sleep(0.05)
    raise AssertionError("no shard child appeared")


def test_a_task_whose_shard_child_is_killed_names_the_shard_and_leaves_no_process(
    tmp_path: Path,
) -> None:
    scenario = load_scenario(POPULATION).with_overrides(4_000, 1)
    before = pids()
    thread, raised = in_a_thread(scenario, tmp_path)
    shard_child(tmp_path).kill()  # as the out-of-memory killer would
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert len(raised) == 1 and isinstance(raised[0], HopsimError)
    assert re.search(r"shard 0 stopped: its process was killed by SIGKILL", str(raised[0]))
    assert release(tmp_path.name) == 0  # a worker process whose shard failed is not kept
    assert not descendants(before)


def test_releasing_a_run_stops_a_shard_in_progress_at_once(tmp_path: Path) -> None:
    """The runner stops (Ctrl-C, or another shard failed): the worker process kills its
    shard's child instead of waiting for a world nobody will read, and nothing is left."""
    scenario = load_scenario(POPULATION).with_overrides(4_000, 1)
    before = pids()
    thread, raised = in_a_thread(scenario, tmp_path)
    shard_child(tmp_path)
    started = time.monotonic()
    assert release(tmp_path.name) == 1, raised
    thread.join(timeout=60)
    assert time.monotonic() - started < 10
    assert not thread.is_alive()
    assert len(raised) == 1 and "stopped without a result" in str(raised[0])
    assert not descendants(before)


def test_a_task_of_a_released_run_starts_no_process(tmp_path: Path) -> None:
    """A task Dask starts after the runner released its run (the run stopped while tasks were
    queued) fails at once: no worker process is started that nothing would ever stop, and a
    later run into the same folder gets worker processes of its own."""
    scenario = load_scenario(POPULATION).with_overrides(60, 1)
    before = pids()
    old, new = uuid.uuid4().hex, uuid.uuid4().hex
    release(old)  # the run is stopped before any task of it starts
    with pytest.raises(HopsimError, match=f"run {old} was stopped: its shard 0 is not started"):
        run_alone(payload(scenario, tmp_path), old, 0, 2, 1)
    assert old not in PROCESSES
    assert not descendants(before)
    fresh = opened(run_alone(payload(scenario, tmp_path), new, 0, 2, 1), 0)
    assert fresh.events > 0
    assert release(new) == 1
    assert not descendants(before)


def test_a_run_stopped_on_a_shared_cluster_leaves_no_worker_process(tmp_path: Path) -> None:
    """``--cluster ADDRESS``: the cluster outlives the run. Stopped while a shard runs and
    others are queued, the run leaves no process behind on the Dask worker: not its worker
    process, not the shard's child (without ``release`` both would live on)."""
    import distributed

    scenario = load_scenario(POPULATION).with_overrides(3_000, 1)
    with local_cluster(1) as cluster, distributed.Client(cluster.scheduler_address) as watcher:
        workers = ClusterWorkers(scenario, tmp_path, 1, cluster.scheduler_address)
        workers.tasks = True
        workers.pending = {
            workers.client.submit(
                run_alone, payload(scenario, tmp_path), workers.token, k, 6, 1, pure=False
            )
            for k in range(6)
        }
        deadline = time.monotonic() + 120
        while not any(watcher.run(descendant_count).values()):  # a shard under way
            assert time.monotonic() < deadline, "no shard started"
            time.sleep(0.1)
        workers.close()
        deadline = time.monotonic() + 20
        while any(watcher.run(descendant_count).values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert set(watcher.run(descendant_count).values()) == {0}


def descendant_count() -> int:
    """Run on a Dask worker: how many live processes it has started (its worker processes and
    their shard children)."""
    alive = psutil.Process().children(recursive=True)
    return sum(1 for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE)
