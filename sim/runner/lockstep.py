"""Lockstep: worker processes that simulate a day at a time and pool what they learned.

A run with ``--workers 3`` deals the households to three worker processes,
each with its own :class:`~sim.runner.shard.Shard`. At every simulated
midnight the workers report what their profiles taught the workspace, the
runner adds it up and hands the total back, like a night shift that pools
the day's numbers before the morning.
"""

from __future__ import annotations

import contextlib
import traceback
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext
from pathlib import Path
from typing import Any

from sim.errors import HopsimError
from sim.runner.gc import fewer_collections
from sim.runner.shard import Progress, Shard, ShardResult
from sim.world.scenario import Scenario


class Lockstep:
    """Worker processes that simulate day by day and pool what the workspace learned.

    Each worker owns a :class:`Shard`. At the end of every simulated day all
    of them report what their profiles taught the workspace (the send-time
    fallback); the runner adds those up and hands the sum back, so every
    worker starts the next day knowing what a single process would know.
    """

    def __init__(self, scenario: Scenario, parts: Path, workers: int) -> None:
        self.scenario = scenario
        self.parts = parts
        self.workers = workers
        self.context = process_context()
        self.shares = self.context.Array("d", workers, lock=False)
        self.counts = self.context.Array("q", workers, lock=False)

    def run(self, progress: Progress | None) -> list[ShardResult]:
        pipes = [self.context.Pipe() for _ in range(self.workers)]
        processes = [
            self.context.Process(
                target=_serve_shard,
                args=(child, self.scenario, self.parts, k, self.workers, self.shares, self.counts),
                daemon=True,
            )
            for k, (_, child) in enumerate(pipes)
        ]
        for process in processes:
            process.start()
        for _, child in pipes:
            child.close()
        conns = [parent for parent, _ in pipes]
        try:
            for _ in range(self.scenario.days):
                learned = [self._receive(k, conn, progress) for k, conn in enumerate(conns)]
                total = add_up(learned)
                for conn in conns:
                    conn.send(total)
            return [self._receive(k, conn, progress) for k, conn in enumerate(conns)]
        except BaseException:
            for process in processes:
                process.kill()  # the others would wait for a day's total that never comes
            raise
        finally:
            for conn in conns:
                conn.close()
            for process in processes:
                process.join()

    def _receive(self, index: int, conn: Connection, progress: Progress | None) -> Any:
        while True:
            if progress is not None:
                progress(min(self.shares), sum(self.counts))
            if conn.poll(0.25):
                break
        try:
            message = conn.recv()
        except EOFError:
            raise HopsimError(f"worker {index} stopped without a result") from None
        if isinstance(message, WorkerFailed):
            raise HopsimError(f"worker {index} failed:\n{message.text}")
        return message


def process_context() -> ForkContext | SpawnContext:
    """Fork where the platform has it (workers inherit the loaded scenario), spawn elsewhere."""
    if "fork" in get_all_start_methods():
        return get_context("fork")
    return get_context("spawn")


@dataclass
class WorkerFailed:
    """What a worker sends instead of a result when its shard raised."""

    text: str


def _serve_shard(
    conn: Connection,
    scenario: Scenario,
    parts: Path,
    index: int,
    count: int,
    shares: Any,
    counts: Any,
) -> None:
    """A worker's life: build the shard, then one day at a time until the runner has it all."""

    def report(share: float, events: int) -> None:
        shares[index] = share
        counts[index] = events

    try:

        def pool(learned: list[float] | None) -> list[float] | None:
            conn.send(learned)
            total: list[float] | None = conn.recv()
            return total

        with fewer_collections():  # this process is the worker: its GC pace is ours to set
            conn.send(Shard(scenario, parts, index, count).run(report, pool))
    except (EOFError, BrokenPipeError):
        pass  # the runner has given up on this run (another worker failed)
    except Exception:  # handed to the runner, which raises it with the worker's number
        with contextlib.suppress(OSError):
            conn.send(WorkerFailed(traceback.format_exc()))
    finally:
        conn.close()


def add_up(parts: list[list[float] | None]) -> list[float] | None:
    """Hour-by-hour sums of the workers' learning (``None`` when nobody learns)."""
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return [sum(column) for column in zip(*present, strict=True)]
