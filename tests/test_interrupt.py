"""Ctrl-C during a run: a clean exit, and no half-written file under a final name."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]
POPULATION = ROOT / "scenarios" / "population.toml"
pytestmark = pytest.mark.slow
NO_DASK = find_spec("distributed") is None
WHERE = [
    pytest.param(["--workers", "2"], id="worker-processes"),
    pytest.param(
        ["--cluster", "local", "--workers", "2"],
        id="local-dask-cluster",
        marks=pytest.mark.skipif(NO_DASK, reason="the cluster extra is not installed"),
    ),
    pytest.param(  # one day: shards as tasks, each in a forked child of a Dask worker's process
        ["--cluster", "local", "--workers", "2", "--persons", "20000", "--days", "1"],
        id="local-dask-cluster-tasks",
        marks=pytest.mark.skipif(NO_DASK, reason="the cluster extra is not installed"),
    ),
]


def left_in_session(sid: int) -> list[psutil.Process]:
    """Live processes of the run's session: its workers, cluster and shard children."""
    left = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getsid(process.pid) == sid and process.status() != psutil.STATUS_ZOMBIE:
                left.append(process)
    return left


def started_writing(out: Path) -> bool:
    """True once a worker has written trace lines into the run's staging folder."""
    parts = out / ".partial" / ".shards"
    return parts.is_dir() and any(p.stat().st_size > 0 for p in parts.glob("trace-*"))


def wait_until_writing(process: subprocess.Popen[bytes], out: Path) -> None:
    """Until the run has written trace lines (it failing, or taking over 240 s, fails the test)."""
    deadline = time.monotonic() + 240
    while not started_writing(out):
        assert process.poll() is None, process.communicate()[1].decode()[-2000:]
        assert time.monotonic() < deadline, "the run never started writing"
        time.sleep(0.2)


@pytest.mark.parametrize("where", WHERE)
def test_ctrl_c_leaves_no_complete_looking_file_and_exits_cleanly(
    where: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    # 1,000 people for 21 days: the calibrated world's few events fill a trace part's first
    # block late, and a smaller run (300 x 21 once) could finish on a loaded machine before the
    # signal arrived; the run is stopped as soon as it writes, so its size costs little.
    command = [sys.executable, "-m", "sim.cli", "run", str(POPULATION), "--persons", "1000",
               "--days", "21", *where, "--no-report", "--out", str(out)]  # fmt: skip
    # Its own process group, like a shell job: Ctrl-C reaches the runner and its workers.
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        wait_until_writing(process, out)
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    text = err.decode()
    deadline = time.monotonic() + 10  # a Dask worker's process may take a moment to see it
    while left_in_session(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left_in_session(process.pid)
    assert process.returncode == 130, text[-2000:]
    assert "Traceback" not in text, text[-2000:]
    assert "hopsim run: interrupted" in text
    assert list(out.iterdir()) == []  # nothing under a final name, and no staging left behind


def test_a_runner_killed_outright_leaves_no_worker_or_shard_process(tmp_path: Path) -> None:
    """SIGKILL to the runner alone (no Ctrl-C, no clean-up of its own): its worker processes
    read the end of their pipes and stop, killing a shard's child they wait for, instead of
    simulating on for a runner that is gone."""
    out = tmp_path / "run"
    command = [sys.executable, "-m", "sim.cli", "run", str(POPULATION), "--persons", "20000",
               "--days", "1", "--workers", "2", "--no-report", "--out", str(out)]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_writing(process, out)
        workers = psutil.Process(process.pid).children(recursive=True)
        assert workers  # worker processes, and the shard children they forked
        assert process.poll() is None  # still running: the kill stops it mid-run
        process.kill()  # the runner only
        process.wait()
        _, alive = psutil.wait_procs(workers, timeout=20)
        assert not alive, [p.cmdline() for p in alive]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
