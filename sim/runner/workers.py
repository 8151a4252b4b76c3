"""Workers: where the shards of a run live, and the one loop that drives them.

A run with ``--workers 3`` deals the households to three shards
(:class:`~sim.runner.shard.Shard`). Wherever the shards live, the runner
drives them the same way (:func:`drive`): every shard simulates a slice of
the day, everyone waits for everyone (the barrier), and at each simulated
midnight the shards report what their profiles taught the workspace, the
runner adds it up and hands the total back with the next slice, like a
night shift that pools the day's numbers before the morning.

Where the shards live is a :class:`Workers`:

- :class:`LocalWorkers`: one shard in this process, or one worker process
  per shard on this machine (forked, talking over a pipe);
- :class:`sim.runner.cluster.ClusterWorkers`: one actor per shard on a Dask
  cluster (``--cluster ADDRESS`` or ``--cluster local``).

Both run the very same per-slice step (:meth:`Shard.step`), so the output is
the same bytes wherever the shards ran.
"""

from __future__ import annotations

import contextlib
import signal
import traceback
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Protocol

from sim.errors import HopsimError
from sim.runner.gc import fewer_collections
from sim.runner.shard import Pooled, Progress, Shard, ShardResult, Slice
from sim.trace.clock import DAY
from sim.world.scenario import Scenario

SLICES_PER_DAY = 4  # a barrier every six simulated hours: the progress bar moves between midnights


class Workers(Protocol):
    """The shards of one run, wherever they live; each call returns once every shard has answered."""

    def step(self, until: float, pooled: Pooled | None) -> list[Slice]:
        """Every shard: adopt ``pooled`` (if any), simulate to ``until``; their answers in shard order."""
        ...

    def finish(self, pooled: Pooled | None) -> list[ShardResult]:
        """Every shard: adopt ``pooled``, close its files and hand back its tables."""
        ...

    def close(self) -> None:
        """Let go of the shards (stop processes, actors); safe after a failure."""
        ...


def drive(workers: Workers, days: int, progress: Progress | None = None) -> list[ShardResult]:
    """Every shard through every day, slice by slice, pooling the workspace's learning at midnight."""
    pooled: Pooled | None = None
    for day in range(days):
        for k in range(1, SLICES_PER_DAY + 1):
            slices = workers.step(day * DAY + k * DAY / SLICES_PER_DAY, pooled)
            pooled = None
            if progress is not None:
                progress(min(s.share for s in slices), sum(s.events for s in slices))
        pooled = Pooled(add_up([s.learned for s in slices]))
    return workers.finish(pooled)


def add_up(parts: list[list[float] | None]) -> list[float] | None:
    """Hour-by-hour sums of the shards' learning (``None`` when nobody learns)."""
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return [sum(column) for column in zip(*present, strict=True)]


def open_shard(scenario: Scenario, folder: Path, index: int, count: int) -> Shard:
    """Build one shard (the population is drawn here, so the collector's pace applies)."""
    with fewer_collections():
        return Shard(scenario, folder, index, count)


class LocalWorkers:
    """The shards on this machine: in this process for one, one forked process each for more."""

    def __init__(self, scenario: Scenario, parts: Path, count: int) -> None:
        self.count = count
        self.local: Shard | None = None
        self.processes: list[BaseProcess] = []
        self.conns: list[Connection] = []
        if count == 1:
            self.local = open_shard(scenario, parts, 0, 1)
            return
        context = process_context()
        for index in range(count):
            parent, child = context.Pipe()
            process = context.Process(
                target=_serve_shard, args=(child, scenario, parts, index, count), daemon=True
            )
            process.start()
            child.close()
            self.processes.append(process)
            self.conns.append(parent)

    def step(self, until: float, pooled: Pooled | None) -> list[Slice]:
        if self.local is not None:
            return [self.local.step(until, pooled)]
        return self._ask(("step", until, pooled))

    def finish(self, pooled: Pooled | None) -> list[ShardResult]:
        if self.local is not None:
            return [self.local.finish(pooled)]
        return self._ask(("finish", pooled))

    def _ask(self, message: tuple[Any, ...]) -> list[Any]:
        for conn in self.conns:
            conn.send(message)
        return [self._receive(index, conn) for index, conn in enumerate(self.conns)]

    def _receive(self, index: int, conn: Connection) -> Any:
        try:
            answer = conn.recv()
        except EOFError:
            raise HopsimError(f"worker {index} stopped without a result") from None
        if isinstance(answer, WorkerFailed):
            raise HopsimError(f"worker {index} failed:\n{answer.text}")
        return answer

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        for process in self.processes:
            if process.is_alive():
                process.kill()  # after a failure the others would wait for a slice that never comes
            process.join()


def process_context() -> ForkContext | SpawnContext:
    """Fork where the platform has it (workers inherit the loaded scenario), spawn elsewhere."""
    if "fork" in get_all_start_methods():
        return get_context("fork")
    return get_context("spawn")


@dataclass
class WorkerFailed:
    """What a worker sends instead of an answer when its shard raised."""

    text: str


def _serve_shard(conn: Connection, scenario: Scenario, parts: Path, index: int, count: int) -> None:
    """A worker process's life: build the shard, then do what the runner asks until ``finish``."""
    # Ctrl-C reaches the whole process group; the runner alone answers it (and stops us).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        shard = open_shard(scenario, parts, index, count)
        while True:
            message = conn.recv()
            if message[0] == "step":
                conn.send(shard.step(message[1], message[2]))
            else:
                conn.send(shard.finish(message[1]))
                return
    except (EOFError, BrokenPipeError):
        pass  # the runner has given up on this run (another worker failed)
    except Exception:  # handed to the runner, which raises it with the worker's number
        with contextlib.suppress(OSError):
            conn.send(WorkerFailed(traceback.format_exc()))
    finally:
        conn.close()
