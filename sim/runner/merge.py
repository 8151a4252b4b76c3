"""The trace merge: several workers' parts collated into the run's one trace.

One shard's files are the run's files already. Several are collated in the
trace's one order (timestamp, then messageId) by a second process, while the
runner finishes the identity graph: both cores work.
"""

from __future__ import annotations

import heapq
import signal
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from sim.errors import HopsimError
from sim.runner.shard import ShardResult
from sim.runner.workers import process_context
from sim.trace.parts import merge_minutes
from sim.trace.reader import read_jsonl
from sim.trace.sink import context_key
from sim.trace.writer import JsonlGzWriter, write_jsonl_gz

MERGE_THREADS = 2  # gzip blocks compressed side by side once the runner's own work is done


class TraceMerge:
    """``trace.jsonl.gz`` and ``contexts.jsonl.gz``, merged by a second process.

    One shard's files are the run's files already. Several are collated (the
    trace from its parts, :mod:`sim.trace.parts`) and compressed in another
    process while the runner finishes the identity graph: both cores work.
    That process is forked before the shards run, while the runner is small,
    and waits to be told the parts (:meth:`begin`): forked later, it would
    start as a copy of everything the runner then holds.
    """

    def __init__(self, out: Path, count: int) -> None:
        self.out = out
        self.target = out / "trace.jsonl.gz"
        self.events = 0
        self.process: BaseProcess | None = None
        if count == 1:
            return
        context = process_context()
        self.receive, send = context.Pipe(duplex=False)
        listen, self.order = context.Pipe(duplex=False)
        args = (listen, self.target, out / "contexts.jsonl.gz", send)
        self.process = context.Process(target=_write_merged, args=args, daemon=True)
        self.process.start()
        send.close()
        listen.close()

    def begin(self, shards: list[ShardResult]) -> None:
        """Start on the finished shards' files (one shard's are moved to their names)."""
        contexts = [s.contexts for s in shards if s.contexts is not None]
        if self.process is None:
            self.events = shards[0].events
            shards[0].trace.replace(self.target)
            for path in contexts:
                path.replace(self.out / "contexts.jsonl.gz")
            return
        self.order.send(([s.trace for s in shards], contexts))
        self.order.close()

    def wait(self) -> int:
        """How many events the trace holds, once it is complete on disk."""
        if self.process is None:
            return self.events
        try:
            written: int = self.receive.recv()
        except EOFError:
            raise HopsimError(
                f"{self.target}: the trace merge stopped before it finished"
            ) from None
        finally:
            self.process.join()
        return written

    def cancel(self) -> None:
        """Stop the merge process if it is still running (the run failed or was interrupted)."""
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join()


def _write_merged(
    listen: Connection, target: Path, contexts_target: Path, done: Connection
) -> None:
    """The merge process: wait for the parts, collate them and the context logs, say how many."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to answer (it stops us)
    try:
        parts, contexts = listen.recv()
    except EOFError:
        return  # the run ended before its shards did
    with JsonlGzWriter(target, threads=MERGE_THREADS) as writer:
        for lines in merge_minutes(parts):
            writer.write_lines(lines)
    rows = heapq.merge(*(read_jsonl(p) for p in contexts), key=context_key)
    write_jsonl_gz(contexts_target, rows)
    done.send(writer.count)
    done.close()
