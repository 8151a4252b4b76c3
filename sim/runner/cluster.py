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
for the run (:class:`~sim.runner.relay.ShardProcess`) forks a child for the
shard, the Dask worker relaying bytes (:mod:`sim.runner.relay`). ``--cluster
local`` starts a private cluster on 127.0.0.1 with one single-threaded
worker process per ``--workers``, its housekeeping slowed to a batch run's
pace (:data:`QUIET`).

The trace parts and context logs are files the actors write into the run
folder's ``.shards`` directory, so on a cluster of several machines the run
folder must be on a file system every worker sees at the same path (docs/scale.md).

Dask is an optional extra (``pip install hopsim[cluster]``); without it,
``--cluster`` is a clear error and everything else works as before.
"""

from __future__ import annotations

import contextlib
import pickle
import signal
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.errors import HopsimError
from sim.runner.relay import release, run_alone
from sim.runner.shard import Pooled, Progress, ShardResult, Slice
from sim.runner.workers import Deal, open_shard
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
        bar moving as each shard comes back. No actor, no barrier: the shards never pool.
        The scenario is pickled here once and a result unpickled here only: the Dask workers
        carry the bytes (:mod:`sim.runner.relay`)."""
        distributed = require_dask()
        self.tasks = True
        payload = pickle.dumps((self.scenario, self.parts), protocol=pickle.HIGHEST_PROTOCOL)
        futures = [
            self.client.submit(run_alone, payload, self.token, k, plan.count, days, pure=False)
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
            name, data = self._gather([future], first=k)[0]
            results[k] = unpickled_result(name, k, data)
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


QUIET = {
    "distributed.worker.profile.enabled": False,  # the task thread sampled every 10 ms, for a dashboard
    "distributed.admin.tick.interval": "1s",  # the event loops' watch for a blocked loop (20 ms)
    "distributed.admin.system-monitor.interval": "5s",  # the dashboard's CPU and network curves
    "distributed.worker.memory.monitor-interval": "1s",  # each worker's memory read (100 ms)
}
"""The local cluster's housekeeping at a batch run's pace, not an interactive dashboard's: an idle
2-worker cluster's processes use about a seventh of the CPU seconds Dask's defaults take."""


def unpickled_result(name: str, index: int, data: bytes) -> ShardResult:
    """Shard ``index``'s result as its child pickled it, relayed by ``name``."""
    result = pickle.loads(data)
    if not isinstance(result, ShardResult):
        raise HopsimError(f"{name}, on shard {index}, sent {type(result).__name__}, not its result")
    if result.index != index:  # an answer left over from another shard: never merged as this one
        raise HopsimError(f"{name}, on shard {index}, sent shard {result.index}'s result")
    return result


def local_cluster(workers: int) -> Any:
    """A private Dask cluster on 127.0.0.1: one single-threaded worker process per shard.

    Its worker processes share our terminal, so Ctrl-C reaches them too; it
    is the runner's to answer (it closes the cluster). They are started with
    SIGINT ignored, which a new Python process keeps (and asyncio leaves
    alone), so they never print a KeyboardInterrupt of their own.
    """
    distributed = require_dask()
    import dask  # installed with distributed

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        # Dask warns when its port 8787 is taken, dashboard off or not: the run has no dashboard.
        with dask.config.set(QUIET), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
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
