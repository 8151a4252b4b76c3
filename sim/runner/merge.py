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
    """

    def __init__(self, shards: list[ShardResult], out: Path) -> None:
        self.target = out / "trace.jsonl.gz"
        contexts = [s.contexts for s in shards if s.contexts is not None]
        self.events = shards[0].events if len(shards) == 1 else 0
        self.process: BaseProcess | None = None
        if len(shards) == 1:
            shards[0].trace.replace(self.target)
            for path in contexts:
                path.replace(out / "contexts.jsonl.gz")
            return
        context = process_context()
        self.receive, send = context.Pipe(duplex=False)
        parts = [s.trace for s in shards]
        args = (parts, self.target, contexts, out / "contexts.jsonl.gz", send)
        self.process = context.Process(target=_write_merged, args=args, daemon=True)
        self.process.start()
        send.close()

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
    parts: list[Path], target: Path, contexts: list[Path], contexts_target: Path, done: Connection
) -> None:
    """The merge process: collate the trace parts and the context logs, say how many events."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to answer (it stops us)
    with JsonlGzWriter(target, threads=MERGE_THREADS) as writer:
        for lines in merge_minutes(parts):
            writer.write_lines(lines)
    rows = heapq.merge(*(read_jsonl(p) for p in contexts), key=context_key)
    write_jsonl_gz(contexts_target, rows)
    done.send(writer.count)
    done.close()
