"""A Dask worker's side of a run's shards that never pool: a relay, not a second runner.

A shard that never pools (``Deal.alone``) is a Dask task (:func:`run_alone`).
The task hands the shard to the Dask worker's own worker process for the run
(:class:`ShardProcess`), which runs the local worker processes' loop
(:func:`sim.runner.workers.serve_shards`) and forks a child per shard, as a
local worker does. The task only carries bytes between the runner and that
process: the run's scenario comes pickled once by the runner, and the shard's
result goes back as the child pickled it, unopened. So the Dask worker never
imports the world (this module imports nothing of it), never builds a second
copy of a result only to pickle it again for the runner, and a run's
start is not held up by the Dask worker's imports: like a post office
that forwards a parcel without opening it.

A failure is the exception: the task reads which class an answer is from the
first bytes of its pickle (:func:`pickled_class`) and raises a worker's
traceback (:class:`~sim.runner.failed.WorkerFailed`) itself, naming the shard.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import pickletools
import signal
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from multiprocessing.connection import Connection

from sim.errors import HopsimError
from sim.runner.failed import WorkerFailed, received_bytes


def run_alone(payload: bytes, run: str, index: int, count: int, days: int) -> tuple[str, bytes]:
    """A Dask task: shard ``index`` of ``count`` through ``days``, run as a local worker runs it.

    ``payload`` is the run's scenario and parts folder, pickled by the runner.
    The answer: who ran the shard (for the runner's errors) and its
    :class:`~sim.runner.shard.ShardResult`, pickled. Where there is no fork,
    the shard is built, run through and let go in the Dask worker itself
    (:func:`~sim.runner.workers.run_held`).
    """
    if run in RELEASED:  # the run stopped while this task was queued (checked again in leased)
        raise HopsimError(f"run {run} was stopped: its shard {index} is not started")
    if not hasattr(os, "fork"):
        from sim.runner.workers import run_held, unreported

        scenario, parts = pickle.loads(payload)
        result = run_held(scenario, parts, index, count, days, unreported)
        return f"a Dask worker on {socket.gethostname()}", pickle.dumps(result)
    # NOTE: speed only, same bytes: the shard in a forked child, not the Dask worker (test_cluster.py).
    with leased(payload, run) as process:
        return process.name, process.run(index, count, days)


def pickled_class(data: bytes) -> str:
    """``module.Class`` of the object pickled in ``data``, read from its first global (no import,
    nothing unpickled); ``""`` if it names none (a pickled ``None``, a number), or if ``data``
    is not a pickle of protocol 2 or later (the only kind a ``Connection`` sends).

    Only the opening ops are read, not a whole shard's result (megabytes of ops, seconds in
    pure Python); a failure's pickle, a traceback, is small and is read whole, so one cut short
    names no class.
    """
    if data[:1] != pickle.PROTO or data[1:2] < b"\x02":
        return ""
    try:
        name = _first_global(data)
        if name == FAILED:
            for _ in pickletools.genops(data):  # whole, or ValueError
                pass
    except ValueError:  # cut short
        return ""
    return name


def _first_global(data: bytes) -> str:
    strings: list[str] = []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE"):
            strings.append(str(arg))
        elif op.name == "STACK_GLOBAL":
            return ".".join(strings[-2:])
        elif op.name == "GLOBAL":
            return str(arg).replace(" ", ".")
        elif op.name == "STOP":
            break
    return ""


FAILED = f"{WorkerFailed.__module__}.{WorkerFailed.__qualname__}"


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

    def __init__(self, payload: bytes) -> None:
        ours, theirs = socket.socketpair()
        start = "import sys; sys.path[:] = sys.argv[2:]; from sim.runner.relay import serve; "
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
        self.conn.send_bytes(payload)  # what serve reads first (``conn.recv`` unpickles it)

    def run(self, index: int, count: int, days: int) -> bytes:
        """Shard ``index`` of ``count`` through ``days``, without its slices; its result, pickled."""
        where = f"{self.name}, on shard {index},"
        try:
            self.conn.send(("shard", index, count, days, False))
        except OSError as exc:
            if self.conn.poll(0):  # it said why it stopped before we spoke (serve)
                raise_if_failed(where, self.conn.recv_bytes())
            raise HopsimError(
                f"{self.name} stopped: it could not be told shard {index} ({exc})"
            ) from None
        data = received_bytes(where, self.conn)
        raise_if_failed(where, data)
        return data

    def alive(self) -> bool:
        """Is the process still there to be lent (not killed while idle, say by the OOM killer)?"""
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop the process, and a shard's child it may be waiting for; the connection stays
        open for the task that may be reading it (it reads the end and closes it)."""
        with contextlib.suppress(OSError):
            self.conn.send(("close",))  # it kills a shard's child at once (shard_apart)
        try:
            self.process.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            from sim.runner.workers import stop_children

            stop_children(self.process.pid)
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        """Stop the process and close our end of its connection."""
        self.stop()
        self.conn.close()


def raise_if_failed(where: str, data: bytes) -> None:
    """Raise the worker's traceback if ``data`` is a pickled :class:`WorkerFailed`."""
    if pickled_class(data) == FAILED:
        failed: WorkerFailed = pickle.loads(data)
        raise HopsimError(f"{where} failed:\n{failed.text}")


def serve(fd: int) -> None:
    """A :class:`ShardProcess`'s life: the run's scenario and parts folder, then the loop of
    a local worker process.

    This is where a Dask worker's host first imports the world and opens the
    scenario; if either fails (a missing package, another hopsim version),
    the traceback goes back as the answer to the first shard, not only to the
    host's stderr.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner answers Ctrl-C, and stops us
    conn = Connection(fd)
    payload = conn.recv_bytes()
    try:
        from sim.runner.workers import serve_shards

        scenario, parts = pickle.loads(payload)
    except Exception:
        conn.send(WorkerFailed(traceback.format_exc()))
        return
    serve_shards(conn, scenario, parts)


PROCESSES: dict[str, list[ShardProcess]] = {}  # this Dask worker's, by run (its token)
RELEASED: set[str] = set()  # runs already released here: a late task of theirs starts nothing
_LOCK = threading.Lock()


@contextlib.contextmanager
def leased(payload: bytes, run: str) -> Iterator[ShardProcess]:
    """An idle worker process of run ``run`` in this Dask worker, started on first need (one
    per task running at once); one whose shard failed is stopped, not lent again."""
    with _LOCK:
        if run in RELEASED:
            raise HopsimError(f"run {run} was stopped: a shard of it is not started")
        mine = PROCESSES.setdefault(run, [])
        for dead in [p for p in mine if not p.busy and not p.alive()]:
            mine.remove(dead)  # killed while idle: its shards are not lost, none was running
            dead.conn.close()
        process = next((p for p in mine if not p.busy), None)
        if process is None:
            process = ShardProcess(payload)
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
