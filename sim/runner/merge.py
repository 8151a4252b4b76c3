"""The merge: the run's second pair of hands for everything the shards' parts make.

One shard's trace and context log are the run's files already. Several
shards' parts are collated, the trace in its one order (timestamp, then
messageId), the row tables in theirs (:mod:`sim.runner.tables`), by a
second process, while the runner absorbs and finalizes the identity graph:
both cores work. That process then counts the realism rows about the
population from the tables it wrote. Once the runner has written the profiles and messages,
the same process reads the finished run folder for the journey metrics
(:func:`sim.analysis.journey_metrics.run_folder_metrics`) while the runner
scores the stitching: the runner's tail after ``finalize`` is the longer of
the two, not their sum.
"""

from __future__ import annotations

import heapq
import signal
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from sim.analysis.journey_metrics import run_folder_metrics
from sim.analysis.metrics_config import MetricsConfig
from sim.analysis.realism_people import people_figures
from sim.errors import HopsimError
from sim.runner.shard import ShardResult
from sim.runner.tables import PEOPLE, TRUTH, merge_tables
from sim.runner.workers import process_context
from sim.trace.parts import merge_minutes
from sim.trace.reader import read_jsonl
from sim.trace.sink import context_key
from sim.trace.writer import JsonlGzWriter, write_jsonl_gz

MERGE_THREADS = 2  # gzip blocks compressed side by side once the runner's own work is done


@dataclass(frozen=True)
class Metrics:
    """What the journey metrics need besides the run folder."""

    start: datetime
    days: int
    config: MetricsConfig

    def of(self, folder: Path) -> dict[str, Any]:
        return run_folder_metrics(folder, self.start, self.days, self.config)


def population_rows(folder: Path) -> list[dict[str, Any]]:
    """The realism rows about the population (:mod:`sim.analysis.realism_people`), from the
    run folder's ``people.jsonl`` and ``truth.jsonl.gz``."""
    people = read_jsonl(folder / PEOPLE.name)
    return [f.as_row() for f in people_figures(people, read_jsonl(folder / TRUTH.name))]


class Merge:
    """``trace.jsonl.gz``, ``contexts.jsonl.gz``, the row tables and the journey metrics.

    With one shard, done in this process when asked. With several, done
    by a second process, forked before the shards run, while the runner is
    small, and waiting to be told the parts (:meth:`begin`): forked later,
    it would start as a copy of everything the runner then holds.
    """

    def __init__(self, out: Path, count: int, metrics: Metrics) -> None:
        self.out = out
        self.metrics = metrics
        self.target = out / "trace.jsonl.gz"
        self.events = 0
        self.population: list[dict[str, Any]] = []
        self.process: BaseProcess | None = None
        if count == 1:
            return
        context = process_context()
        self.receive, send = context.Pipe(duplex=False)
        listen, self.order = context.Pipe(duplex=False)
        args = (listen, out, metrics, send)
        self.process = context.Process(target=_merge, args=args, daemon=True)
        self.process.start()
        send.close()
        listen.close()

    def begin(self, shards: list[ShardResult]) -> None:
        """Start on the finished shards' parts (one shard's are the run's files at once)."""
        contexts = [s.contexts for s in shards if s.contexts is not None]
        tables = [s.tables for s in shards]
        if self.process is None:
            self.events = shards[0].events
            shards[0].trace.replace(self.target)
            for path in contexts:
                path.replace(self.out / "contexts.jsonl.gz")
            merge_tables(tables, self.out)
            self.population = population_rows(self.out)
            return
        self.order.send(([s.trace for s in shards], contexts, tables))

    def wait(self) -> int:
        """How many events the trace holds, once it and the row tables are complete on disk.

        The realism rows about the population are then in :attr:`population`.
        """
        if self.process is not None:
            self.events, self.population = self._answer()
        return self.events

    def ask_metrics(self) -> None:
        """Go on to the journey metrics once the tables are written (profiles and messages are)."""
        if self.process is not None:
            self.order.send("metrics")
            self.order.close()

    def journey_metrics(self) -> dict[str, Any]:
        """The journey metrics of the run folder (asked for with :meth:`ask_metrics`)."""
        if self.process is None:
            return self.metrics.of(self.out)
        block: dict[str, Any] = self._answer()
        self.process.join()
        return block

    def _answer(self) -> Any:
        try:
            return self.receive.recv()
        except EOFError:
            raise HopsimError(f"{self.target}: the merge stopped before it finished") from None

    def cancel(self) -> None:
        """Stop the merge process if it is still running (the run failed or was interrupted)."""
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join()


def _merge(listen: Connection, out: Path, metrics: Metrics, done: Connection) -> None:
    """The merge process: collate the parts, say how many events; then the journey metrics."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to answer (it stops us)
    try:
        parts, contexts, tables = listen.recv()
    except EOFError:
        return  # the run ended before its shards did
    with JsonlGzWriter(out / "trace.jsonl.gz", threads=MERGE_THREADS) as writer:
        for lines in merge_minutes(parts):
            writer.write_lines(lines)
    rows = heapq.merge(*(read_jsonl(p) for p in contexts), key=context_key)
    write_jsonl_gz(out / "contexts.jsonl.gz", rows)
    merge_tables(tables, out)
    done.send((writer.count, population_rows(out)))
    try:
        listen.recv()
    except EOFError:
        return  # the runner stopped before it wrote the profiles
    done.send(metrics.of(out))
    done.close()
