"""The shards of a run as actors on a Dask cluster (``hopsim run ... --cluster ADDRESS``).

Each shard lives in a Dask worker as an actor (:class:`ShardActor`), a
long-lived object that keeps its world and engine between calls. The runner
drives the actors with the same loop as local workers
(:func:`sim.runner.workers.drive`): call ``step`` on every actor, wait for
every actor's future (the engine's own barrier), pool the day's
learning at midnight. A run whose shards never pool (``Deal.alone``: one
day, or no messaging) needs no barrier: each shard is a plain task
(:func:`run_alone`) that a free worker takes, Dask's scheduler being the
queue, and runs as a local worker does: the Dask worker's own worker process
for the run (:class:`ShardProcess`) forks a child for the shard. ``--cluster
local`` starts a private cluster on 127.0.0.1 with one single-threaded
worker process per ``--workers``.

The trace parts and context logs are files the actors write into the run
folder's ``.shards`` directory, so on a cluster of several machines the run
folder must be on a file system every worker sees at the same path (docs/scale.md).

Dask is an optional extra (``pip install hopsim[cluster]``); without it,
``--cluster`` is a clear error and everything else works as before.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sim.errors import HopsimError
from sim.runner.shard import Pooled, Progress, ShardResult, Slice
from sim.runner.workers import (
    Deal,
    open_shard,
    receive,
    run_held,
    serve_shards,
    stop_children,
)
from sim.world.scenario import Scenario

LOCAL = "local"


def require_dask() -> Any:
    """The ``distributed`` module, or a clear error naming the extra to install."""
    try:
        import distributed
    except ImportError:
        raise HopsimError(
            "--cluster needs Dask's distributed scheduler: pip install 'hopsim[cluster]'"
        ) from None
    return distributed


class ShardActor:
    """One shard inside a Dask worker; the same object as a local shard, called remotely."""

    def __init__(self, scenario: Scenario, parts: Path, index: int, count: int) -> None:
        self.shard = open_shard(scenario, parts, index, count)

    def step(self, until: float, pooled: Pooled | None) -> Slice:
        return self.shard.step(until, pooled)

    def finish(self, pooled: Pooled | None) -> ShardResult:
        return self.shard.finish(pooled)


class ClusterWorkers:
    """Shards as actors on the Dask cluster at ``address`` (or a local one of ``count`` workers)."""

    def __init__(self, scenario: Scenario, parts: Path, count: int, address: str) -> None:
        distributed = require_dask()
        self.cluster: Any = None
        self.client: Any = None
        self.scenario, self.parts = scenario, parts
        self.actors: list[Any] = []
        self.tasks = False  # whether shards went as tasks (run_alone): worker processes to stop
        self.pending: set[Any] = set()  # the tasks not yet answered, cancelled if the run stops
        # This run's name on the Dask workers: their worker processes are kept and stopped by it
        # (two runs on one cluster, even into the same folder, never share one).
        self.token = uuid.uuid4().hex
        if address == LOCAL:
            self.cluster = local_cluster(count)
            address = self.cluster.scheduler_address
        try:
            self.client = distributed.Client(address, timeout="30s")
        except OSError as exc:
            self.close()
            raise HopsimError(
                f"--cluster {address}: cannot reach a Dask scheduler: {exc}"
            ) from None
        self.hosts = sorted(self.client.scheduler_info()["workers"])
        if not self.hosts:
            self.close()
            raise HopsimError(f"--cluster {address}: the scheduler has no workers")

    def open(self, shards: Sequence[int], count: int) -> None:
        # Shard k goes to worker k mod W: one shard per worker when the counts agree.
        hosts = self.hosts
        futures = [
            self.client.submit(
                ShardActor,
                self.scenario,
                self.parts,
                k,
                count,
                actor=True,
                workers=[hosts[k % len(hosts)]],
                pure=False,
                allow_other_workers=False,
            )
            for k in shards
        ]
        self.actors = self._gather(futures)

    def step(self, until: float, pooled: Pooled | None) -> list[Slice]:
        return self._gather([actor.step(until, pooled) for actor in self.actors])

    def finish(self, pooled: Pooled | None) -> list[ShardResult]:
        results: list[ShardResult] = self._gather([actor.finish(pooled) for actor in self.actors])
        self.actors = []  # the actors (and their worlds) go before the next round's are built
        return results

    def through(self, plan: Deal, days: int, progress: Progress | None) -> list[ShardResult]:
        """An ``alone`` deal: every shard a task of its own, run through by whichever worker is
        free (Dask's own queue, one task at a time per single-threaded worker), the progress
        bar moving as each shard comes back. No actor, no barrier: the shards never pool."""
        distributed = require_dask()
        self.tasks = True
        futures = [
            self.client.submit(
                run_alone, self.scenario, self.parts, self.token, k, plan.count, days, pure=False
            )
            for k in range(plan.count)
        ]
        index = {future.key: k for k, future in enumerate(futures)}
        self.pending = set(futures)
        queue = distributed.as_completed(futures)
        del futures  # each result leaves its worker once fetched (the queue holds the rest)
        results: dict[int, ShardResult] = {}
        events = 0
        for future in queue:
            k = index[future.key]
            results[k] = self._gather([future], first=k)[0]
            self.pending.discard(future)
            del future
            events += results[k].events
            if progress is not None:
                progress(len(results) / plan.count, events)
        return [results[k] for k in range(plan.count)]

    def _gather(self, futures: list[Any], first: int = 0) -> list[Any]:
        """Every answer, in shard order; a shard's failure is named by its number."""
        answers = []
        for index, future in enumerate(futures, start=first):
            try:
                answers.append(future.result())
            except HopsimError:
                raise
            except Exception as exc:
                raise HopsimError(f"worker {index} failed: {type(exc).__name__}: {exc}") from exc
        return answers

    def close(self) -> None:
        client = self.client
        self.actors = []
        if client is not None:
            if self.tasks:  # the Dask workers' own worker processes of this run, and their children
                # Queued tasks first: one that started after release would start a process anew.
                with contextlib.suppress(Exception):
                    client.cancel(list(self.pending))
                self.pending = set()
                with contextlib.suppress(Exception):
                    client.run(release, self.token, wait=True)
            client.close()
        if self.cluster is not None:
            self.cluster.close()


def run_alone(
    scenario: Scenario, parts: Path, run: str, index: int, count: int, days: int
) -> ShardResult:
    """A Dask task: one shard that never pools, run as a local worker runs it.

    The task hands the shard to this Dask worker's own worker process for the
    run (:class:`ShardProcess`), which forks a child for it
    (:func:`~sim.runner.workers.shard_apart`); the task waits for the
    result and hands it to Dask. Where there is no fork, the shard is built,
    run through and let go in the Dask worker itself (:func:`~sim.runner.workers.run_held`).
    """
    if run in RELEASED:  # the run stopped while this task was queued (checked again in leased)
        raise HopsimError(f"run {run} was stopped: its shard {index} is not started")
    if not hasattr(os, "fork"):
        return run_held(scenario, parts, index, count, days, _unreported)
    # NOTE: speed only, same bytes: the shard in a forked child, not the Dask worker (test_cluster.py).
    with leased(scenario, parts, run) as process:
        return process.run(index, count, days)


def _unreported(piece: Slice) -> None:
    """A task's slices are not reported: the bar moves shard by shard on a cluster."""


class ShardProcess:
    """A Dask worker's own worker process for one run: the loop of a local worker process
    (:func:`~sim.runner.workers.serve_shards`), talking to the Dask worker over a socket.

    A Dask worker runs its tasks in threads beside its event loop, and its
    process is a daemon that :mod:`multiprocessing` will not let have
    children, so the worker process is a new interpreter (``subprocess``),
    single-threaded, which forks a child per shard as a local worker does: each
    world freed by its child's exit, the run's household shapes drawn once per
    worker process, no Dask thread beside the simulation. It imports what the
    Dask worker imports (the same interpreter and ``sys.path``), on the same host.
    """

    def __init__(self, scenario: Scenario, parts: Path) -> None:
        ours, theirs = socket.socketpair()
        start = "import sys; sys.path[:] = sys.argv[2:]; from sim.runner.cluster import serve; "
        command = [sys.executable, "-c", start + "serve(int(sys.argv[1]))"]
        with theirs:
            self.process = subprocess.Popen(
                [*command, str(theirs.fileno()), *sys.path],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
            )
        self.conn = Connection(ours.detach())
        self.name = (
            f"the worker process {self.process.pid} of a Dask worker on {socket.gethostname()}"
        )
        self.busy = False
        self.conn.send((scenario, parts))

    def run(self, index: int, count: int, days: int) -> ShardResult:
        """Shard ``index`` of ``count`` through ``days``, its slices read and dropped; its result."""
        try:
            self.conn.send(("shard", index, count, days))
        except OSError as exc:
            raise HopsimError(
                f"{self.name} stopped: it could not be told shard {index} ({exc})"
            ) from None
        while True:
            answer = receive(f"{self.name}, on shard {index},", self.conn)
            if isinstance(answer, ShardResult):
                return answer

    def stop(self) -> None:
        """Stop the process, and a shard's child it may be waiting for; the connection stays
        open for the task that may be reading it (it reads the end and closes it)."""
        with contextlib.suppress(OSError):
            self.conn.send(("close",))  # it kills a shard's child at once (shard_apart)
        try:
            self.process.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            stop_children(self.process.pid)
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        """Stop the process and close our end of its connection."""
        self.stop()
        self.conn.close()


def serve(fd: int) -> None:
    """A :class:`ShardProcess`'s life: the run's scenario and parts folder, then the loop of
    a local worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner answers Ctrl-C, and stops us
    conn = Connection(fd)
    scenario, parts = conn.recv()
    serve_shards(conn, scenario, parts)


PROCESSES: dict[str, list[ShardProcess]] = {}  # this Dask worker's, by run (its token)
RELEASED: set[str] = set()  # runs already released here: a late task of theirs starts nothing
_LOCK = threading.Lock()


@contextlib.contextmanager
def leased(scenario: Scenario, parts: Path, run: str) -> Iterator[ShardProcess]:
    """An idle worker process of run ``run`` in this Dask worker, started on first need (one
    per task running at once); one whose shard failed is stopped, not lent again."""
    with _LOCK:
        if run in RELEASED:
            raise HopsimError(f"run {run} was stopped: a shard of it is not started")
        mine = PROCESSES.setdefault(run, [])
        process = next((p for p in mine if not p.busy), None)
        if process is None:
            process = ShardProcess(scenario, parts)
            mine.append(process)
        process.busy = True
    try:
        yield process
    except BaseException:
        with _LOCK:
            if process in mine:
                mine.remove(process)
        process.close()
        raise
    process.busy = False


def release(run: str) -> int:
    """Stop this Dask worker's worker processes of run ``run`` (the runner asks every Dask
    worker when the run is done, or stopped); how many there were. A task of the run still
    reading its process's answer finds the end, and closes the connection itself."""
    with _LOCK:
        RELEASED.add(run)
        mine = list(PROCESSES.pop(run, []))  # a task whose process stops drops it from the list
    for process in mine:
        if process.busy:
            process.stop()
        else:
            process.close()
    return len(mine)


def local_cluster(workers: int) -> Any:
    """A private Dask cluster on 127.0.0.1: one single-threaded worker process per shard.

    Its worker processes share our terminal, so Ctrl-C reaches them too; it
    is the runner's to answer (it closes the cluster). They are started with
    SIGINT ignored, which a new Python process keeps (and asyncio leaves
    alone), so they never print a KeyboardInterrupt of their own.
    """
    distributed = require_dask()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=50,  # logging.CRITICAL: the run reports its own errors, the bar its progress
        )
    finally:
        signal.signal(signal.SIGINT, previous)
