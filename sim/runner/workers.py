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
  per ``--workers`` on this machine (forked, talking over a pipe), which
  runs each shard of a run that never pools in a child of its own
  (:func:`shard_apart`);
- :class:`sim.runner.cluster.ClusterWorkers`: one actor per shard on a Dask
  cluster (``--cluster ADDRESS`` or ``--cluster local``), or, for shards
  that never pool, a task per shard, which each Dask worker hands to a
  worker process of its own running the local worker processes' loop
  (:func:`serve_shards`): one way to run such a shard, here or there.

Both run the very same per-slice step (:meth:`Shard.step`), so the output is
the same bytes wherever the shards ran.

How many shards, and how many at a time, is a :class:`Deal`. A shard's
households never wait for another's except for the midnight pooling, and a
one-day run pools only once, after its last slice, when nothing reads the
pool any more (and a run without campaigns never pools). Such a run is dealt
into more shards than workers, ``BATCH_PERSONS`` persons or fewer each, and
each worker simulates its shards one after another, letting each world go
before building the next: a worker holds one batch of people at a time,
however many the run has. The output is the same bytes for any number of
shards, so for any batch size.

Shards that never pool never need to wait for each other either: in such a
run (``Deal.alone``) each worker runs a shard through the whole run without
a barrier and takes the next waiting shard as soon as it has handed one back
(:meth:`Workers.through`), like cashiers serving one line, reporting each
slice for the progress bar as it goes. A run whose shards pool goes in
lockstep (:func:`lockstep`).
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Protocol, cast

import psutil

from sim.errors import HopsimError
from sim.runner.failed import WorkerFailed, broken, received_bytes, stopped
from sim.runner.gc import fewer_collections, hold_collections, let_go
from sim.runner.shard import Pooled, Progress, Shard, ShardResult, Slice
from sim.trace.clock import DAY
from sim.world.population import draw_shapes
from sim.world.scenario import Scenario

SLICES_PER_DAY = 4  # a barrier every six simulated hours: the progress bar moves between midnights
BATCH_PERSONS = 25_000
"""At most this many persons in one shard, when shards may run one after another (:class:`Deal`)."""


@dataclass(frozen=True)
class Deal:
    """``count`` shards (household i to shard i mod ``count``), ``workers`` of them at a time.

    ``alone``: no shard waits for another (:func:`alone`), so each worker may
    take the next shard as soon as it is done with one (:meth:`Workers.through`).
    """

    count: int
    workers: int
    alone: bool = False

    @property
    def rounds(self) -> list[list[int]]:
        """The shards simulated together, round after round (shard k on worker k mod ``workers``)."""
        per = self.workers
        return [list(range(start, start + per)) for start in range(0, self.count, per)]


def deal(scenario: Scenario, workers: int, batch: int = BATCH_PERSONS) -> Deal:
    """One shard per worker, or, when shards need not pool, batches of at most ``batch`` persons."""
    if not alone(scenario):
        return Deal(workers, workers)
    count = workers * max(1, math.ceil(scenario.persons / (workers * batch)))
    return Deal(count, workers, alone=True)


def alone(scenario: Scenario) -> bool:
    """Whether a shard's output never depends on the others': nothing reads a pooled day.

    A run without campaigns or journeys learns nothing to pool; a one-day run
    pools only after its last slice, and nothing reads that pool. A paced
    broadcast (a journey with ``rate_limit``) is the exception: its shards
    trade their part of the wave at the broadcast's moment
    (:mod:`sim.runner.pool`), so every shard must be alive at once.
    """
    if any("rate_limit" in journey for journey in scenario.journeys):
        return False
    return scenario.days == 1 or not (scenario.campaigns or scenario.journeys)


class Workers(Protocol):
    """The shards of one run, wherever they live; each call returns once every shard has answered."""

    def open(self, shards: Sequence[int], count: int) -> None:
        """Build shards ``shards`` of ``count``, one on each worker (``len(shards)`` = workers)."""
        ...

    def step(self, until: float, pooled: Pooled | None) -> list[Slice]:
        """Every shard: adopt ``pooled`` (if any), simulate to ``until``; their answers in shard order."""
        ...

    def finish(self, pooled: Pooled | None) -> list[ShardResult]:
        """Every shard: adopt ``pooled``, close its files and hand back its tables."""
        ...

    def through(self, plan: Deal, days: int, progress: Progress | None) -> list[ShardResult]:
        """Every shard of an ``alone`` deal through the run, each worker taking the next
        waiting shard when it is done with one, none waiting for another; the results in
        shard order."""
        ...

    def close(self) -> None:
        """Let go of the shards (stop processes, actors); safe after a failure."""
        ...


def drive(
    workers: Workers, plan: Deal, days: int, progress: Progress | None = None
) -> list[ShardResult]:
    """Every shard through every day: each worker at its own pace when the shards never
    pool (``plan.alone``), else round by round in lockstep."""
    if plan.alone:
        return workers.through(plan, days, progress)
    return lockstep(workers, plan, days, progress)


def lockstep(
    workers: Workers, plan: Deal, days: int, progress: Progress | None = None
) -> list[ShardResult]:
    """Every shard through every day, round by round, pooling the workspace's learning at midnight."""
    results: list[ShardResult] = []
    rounds = plan.rounds
    done = 0  # events of the rounds already finished, for the progress bar
    for number, shards in enumerate(rounds):
        workers.open(shards, plan.count)
        pooled: Pooled | None = None
        for day in range(days):
            for k in range(1, SLICES_PER_DAY + 1):
                slices = workers.step(day * DAY + k * DAY / SLICES_PER_DAY, pooled)
                pooled = None
                events = sum(s.events for s in slices)
                if progress is not None:
                    progress((number + min(s.share for s in slices)) / len(rounds), done + events)
            pooled = Pooled(add_up([s.learned for s in slices]))
        finished = workers.finish(pooled)
        results += finished
        done += sum(r.events for r in finished)  # with what finishing wrote (sessions closed)
        if progress is not None:
            progress((number + 1) / len(rounds), done)
    return results


def slice_ends(days: int) -> list[float]:
    """The simulated moments at which a shard reports: four a day (``SLICES_PER_DAY``)."""
    return [
        day * DAY + k * DAY / SLICES_PER_DAY
        for day in range(days)
        for k in range(1, SLICES_PER_DAY + 1)
    ]


def run_through(shard: Shard, days: int, report: Callable[[Slice], object]) -> ShardResult:
    """One shard of an ``alone`` deal through the whole run, each slice reported; its result.

    At midnight the shard adopts its own learning, as a shard does that
    pools with nobody (one worker's round of one shard, :func:`lockstep`).
    """
    pooled: Pooled | None = None
    for until in slice_ends(days):
        piece = shard.step(until, pooled)
        pooled = Pooled(add_up([piece.learned])) if until % DAY == 0 else None
        report(piece)
    return shard.finish(pooled)


def run_held(
    scenario: Scenario,
    parts: Path,
    index: int,
    count: int,
    days: int,
    report: Callable[[Slice], object],
) -> ShardResult:
    """One shard built and run through in this process, with no collections while its world
    lives and one when it is gone, before the result is handed back (:mod:`sim.runner.gc`)."""
    held = hold_collections()
    try:
        return run_through(open_shard(scenario, parts, index, count), days, report)
    finally:
        let_go(held)  # the world went with run_through's frame


class Tracker:
    """The progress bar of workers that each take the next shard when done (:meth:`Workers.through`)."""

    def __init__(self, plan: Deal, progress: Progress | None) -> None:
        self.plan, self.progress = plan, progress
        self.done = 0  # shards finished
        self.events_done = 0  # their events
        self.now: dict[int, Slice] = {}  # each worker's shard in progress: its last slice

    def sliced(self, worker: int, piece: Slice) -> None:
        self.now[worker] = piece
        self._show()

    def finished(self, worker: int, result: ShardResult) -> None:
        self.now.pop(worker, None)
        self.done += 1
        self.events_done += result.events
        self._show()

    def _show(self) -> None:
        if self.progress is None:
            return
        share = self.done + sum(s.share for s in self.now.values())
        events = self.events_done + sum(s.events for s in self.now.values())
        self.progress(share / self.plan.count, events)


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
    """The shards on this machine: in this process for one worker, one forked process each for more.

    A worker process lives for the whole run and builds each shard it is
    given (``open``) only when the one before it has finished, so it holds
    one shard's world at a time; a shard that never pools it runs in a
    forked child of its own (:meth:`through`, :func:`shard_apart`).
    """

    def __init__(self, scenario: Scenario, parts: Path, count: int) -> None:
        self.scenario, self.parts = scenario, parts
        self.local: Shard | None = None
        self.held: bool | None = None  # while a shard lives here: was the collector on before
        self.processes: list[BaseProcess] = []
        self.conns: list[Connection] = []
        if count == 1:
            return
        context = process_context()
        for _ in range(count):
            parent, child = context.Pipe()
            process = context.Process(
                target=serve_local,
                args=(child, [*self.conns, parent], scenario, parts),
                daemon=True,
            )
            process.start()
            child.close()
            self.processes.append(process)
            self.conns.append(parent)

    def open(self, shards: Sequence[int], count: int) -> None:
        if not self.conns:
            self.held = hold_collections()
            self.local = open_shard(self.scenario, self.parts, shards[0], count)
            return
        for conn, index in zip(self.conns, shards, strict=True):
            conn.send(("open", index, count))
        for number, conn in enumerate(self.conns):
            self._receive(number, conn)  # built (or why not)

    def step(self, until: float, pooled: Pooled | None) -> list[Slice]:
        if self.local is not None:
            return [self.local.step(until, pooled)]
        return self._ask(("step", until, pooled))

    def finish(self, pooled: Pooled | None) -> list[ShardResult]:
        if self.local is not None:
            result = self.local.finish(pooled)
            self.local = None
            self._let_go()  # the world's cycles: let it go before the next shard is built
            return [result]
        return self._ask(("finish", pooled))

    def through(self, plan: Deal, days: int, progress: Progress | None) -> list[ShardResult]:
        if not self.conns:  # one worker: its rounds are its line already
            return lockstep(self, plan, days, progress)
        waiting = iter(range(plan.count))
        busy: dict[Connection, int] = {}  # each worker's shard in progress

        number = {conn: worker for worker, conn in enumerate(self.conns)}

        def give(conn: Connection) -> None:
            index = next(waiting, None)
            if index is not None:
                self._send(number[conn], conn, ("shard", index, plan.count, days))
                busy[conn] = index

        for conn in self.conns:
            give(conn)
        tracker = Tracker(plan, progress)
        results: dict[int, ShardResult] = {}
        while busy:
            for ready in wait(list(busy)):
                conn = cast(Connection, ready)  # wait() returns what it was given
                answer = self._receive(number[conn], conn)
                if isinstance(answer, ShardResult):
                    results[answer.index] = answer
                    tracker.finished(number[conn], answer)
                    del busy[conn]
                    give(conn)
                else:
                    tracker.sliced(number[conn], answer)
        return [results[k] for k in range(plan.count)]

    def _ask(self, message: tuple[Any, ...]) -> list[Any]:
        for index, conn in enumerate(self.conns):
            self._send(index, conn, message)
        return [self._receive(index, conn) for index, conn in enumerate(self.conns)]

    def _send(self, index: int, conn: Connection, message: tuple[Any, ...]) -> None:
        try:
            conn.send(message)
        except OSError as exc:
            raise HopsimError(
                f"worker {index} stopped: it could not be told {message[0]!r} ({exc})"
            ) from None

    def _receive(self, index: int, conn: Connection) -> Any:
        return receive(f"worker {index}", conn)

    def _let_go(self) -> None:
        if self.held is not None:
            let_go(self.held)
            self.held = None

    def close(self) -> None:
        self.local = None
        self._let_go()  # a run that failed midway (or while building its shard)
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(("close",))
            conn.close()
        for process in self.processes:
            process.join(timeout=1.0)
            if process.is_alive():  # after a failure it may be waiting for a slice that never comes
                stop_children(process.pid)  # or for a shard's child (shard_apart) to finish
                process.kill()
            process.join()


def receive(name: str, conn: Connection) -> Any:
    """A worker process's next answer; its failure, or its silence, is an error naming it."""
    data = received_bytes(name, conn)
    try:  # conn.recv() is recv_bytes() then loads(): each failure worded as it was
        answer = pickle.loads(data)
    except EOFError:
        raise stopped(name) from None
    except pickle.UnpicklingError as exc:  # a shard's child died mid-answer
        raise broken(name, exc) from None
    if isinstance(answer, WorkerFailed):
        raise HopsimError(f"{name} failed:\n{answer.text}")
    return answer


def stop_children(pid: int | None) -> None:
    """Kill the child processes of worker ``pid`` (a shard's child, :func:`shard_apart`)."""
    if pid is None:
        return
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()


def serve_local(
    conn: Connection, runner_ends: list[Connection], scenario: Scenario, parts: Path
) -> None:
    """A local worker process: its copies of the runner's pipe ends (a forked process inherits
    them) closed first, so that a runner killed outright reads as the end of its pipe, and the
    worker (and a shard's child) stops instead of waiting for a runner that is gone."""
    for end in runner_ends:
        end.close()
    serve_shards(conn, scenario, parts)


def process_context() -> ForkContext | SpawnContext:
    """Fork where the platform has it (workers inherit the loaded scenario), spawn elsewhere."""
    if "fork" in get_all_start_methods():
        return get_context("fork")
    return get_context("spawn")


def serve_shards(conn: Connection, scenario: Scenario, parts: Path) -> None:
    """A worker process's life: build each shard it is given, do what the runner asks, hand back.

    The runner is whoever holds the other end of ``conn``: this machine's
    runner (:class:`LocalWorkers`), or a Dask task of the run on a cluster
    (:func:`sim.runner.relay.run_alone`), which asks for a shard's result
    alone, without its slices (``("shard", index, count, days, False)``).
    """
    # Ctrl-C reaches the whole process group; the runner alone answers it (and stops us).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    shard: Shard | None = None
    held = True  # was the collector on before the shard (hold_collections)
    try:
        while True:
            message = conn.recv()
            if message[0] == "open":
                held = hold_collections()
                shard = open_shard(scenario, parts, message[1], message[2])
                conn.send(None)
            elif message[0] == "step" and shard is not None:
                conn.send(shard.step(message[1], message[2]))
            elif message[0] == "finish" and shard is not None:
                result = shard.finish(message[1])
                shard = None
                let_go(held)  # the world goes before its result is pickled: one world at a time
                conn.send(result)
            elif message[0] == "shard":
                _run_shard(conn, scenario, parts, *message[1:])
            else:
                return
    except (EOFError, BrokenPipeError):
        pass  # the runner has given up on this run (another worker failed)
    except Exception:  # handed to the runner, which raises it with the worker's number
        with contextlib.suppress(OSError):
            conn.send(WorkerFailed(traceback.format_exc()))
    finally:
        conn.close()


def _run_shard(
    conn: Connection,
    scenario: Scenario,
    parts: Path,
    index: int,
    count: int,
    days: int,
    slices: bool = True,
) -> None:
    """One shard of an ``alone`` deal through the run, each slice reported (if ``slices``), then
    its result."""
    report = conn.send if slices else unreported
    if not hasattr(os, "fork"):
        conn.send(run_held(scenario, parts, index, count, days, report))
        return
    draw_shapes(scenario)  # once per worker (kept): every shard's child starts with them
    shard_apart(conn, scenario, parts, index, count, days, report)


def unreported(piece: Slice) -> None:
    """A slice nobody reads (a Dask task's shard: the bar moves shard by shard on a cluster)."""


def shard_apart(
    conn: Connection,
    scenario: Scenario,
    parts: Path,
    index: int,
    count: int,
    days: int,
    report: Callable[[Slice], object],
) -> None:
    """One shard run through in a child process of its own, which hands back its result and exits.

    A world is millions of objects in cycles; a process that keeps living
    must find them all with a full collection to free them, a child that
    exits just gives its memory back. The worker waits for the child, so it
    still holds one world at a time, and listens to the runner meanwhile: a
    runner that stops the run (or is gone) has the child killed at once.
    """
    # NOTE: a child per shard frees its world by exiting, not by a full collection (test_batches.py).
    alive, kept = os.pipe()  # the child holds ``kept`` open: ``alive`` reads EOF when it is gone
    pid = os.fork()
    if pid == 0:  # the child: the world is built, lived and dropped here
        code = 1
        try:
            os.close(alive)
            hold_collections()
            conn.send(run_through(open_shard(scenario, parts, index, count), days, report))
            code = 0
        except BaseException:  # handed to the runner, which raises it with the worker's number
            with contextlib.suppress(BaseException):
                conn.send(WorkerFailed(traceback.format_exc()))
        finally:
            os._exit(code)
    os.close(kept)
    try:
        wanted = alive in wait([conn, alive])  # else the runner spoke (it stops) or went away
    finally:
        os.close(alive)
    if not wanted:
        os.kill(pid, signal.SIGKILL)  # no world outlives its run: the runner's word is read next
    _, status = os.waitpid(pid, 0)
    if wanted and status != 0:
        raise HopsimError(f"shard {index} stopped: {how_it_ended(status)}")


def how_it_ended(status: int) -> str:
    """A child's wait status in words: its exit code, or the signal that killed it."""
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"its process exited with code {code}"
    name = signal.Signals(-code).name
    hint = " (out of memory?)" if -code == signal.SIGKILL else ""
    return f"its process was killed by {name}{hint}"
