"""The merge: the run's second pair of hands for the shards' parts and everything read off the truth.

The runner's tail has one step nobody can split: absorbing the shards'
identity graphs and finalizing the one graph (docs/scale.md). The merge
does the rest of the shards' work beside it, on the other core:

1. while the runner absorbs and finalizes: collate the shards' parts into
   the run's trace (timestamp, then messageId) and row tables
   (:mod:`sim.runner.tables`), count the realism rows about the population
   from the tables, and read the truth for the stitching score in the
   same pass over it;
2. once the runner has written the profiles and messages: score the
   stitching (and what it cost the messaging) against that truth, read
   once, while the runner collates the shards' context logs
   (:meth:`Merge.collate_contexts`, the one part of the merge's work done
   in the runner's process) and adds up their journey-metrics tallies.

With one shard it is all done in the runner's process, in the same order:
the one shard's trace and context log are the run's files already. With
several, by a second process, forked before the shards run, while the
runner is small, and waiting to be told the parts (:meth:`Merge.begin`):
forked later, it would start as a copy of everything the runner then holds.
"""

from __future__ import annotations

import contextlib
import heapq
import signal
import traceback
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from sim.analysis.realism_people import people_figures
from sim.analysis.stitch_costs import owner_costs
from sim.analysis.stitching import Truth, reading_truth, score_read
from sim.errors import HopsimError
from sim.runner.failed import WorkerFailed
from sim.runner.gc import hold_collections
from sim.runner.shard import ShardResult
from sim.runner.tables import PEOPLE, TRUTH, merge_tables
from sim.runner.workers import process_context
from sim.trace.parts import merge_minutes
from sim.trace.reader import iter_lines, parse_line, read_jsonl
from sim.trace.sink import context_key
from sim.trace.writer import JsonlGzWriter

MERGE_THREADS = 2  # gzip blocks compressed side by side once the runner's own work is done
PROFILES = "profiles.jsonl"
MESSAGES = "messages.jsonl"


@dataclass(frozen=True)
class Scores:
    """What the merge reads off the truth once the profiles are written."""

    stitching: dict[str, Any]
    costs: dict[str, int] | None
    """``messaging``'s stitching costs (:mod:`sim.analysis.stitch_costs`), when asked for."""


class Merge:
    """``trace.jsonl.gz``, ``contexts.jsonl.gz``, the row tables, and the scores read off them."""

    def __init__(self, out: Path, count: int) -> None:
        self.out = out
        self.events = 0
        self.population: list[dict[str, Any]] = []
        """The realism rows about the population, once :meth:`wait` returned."""
        self.truth: dict[str, Truth] = {}
        self.costs = False
        self.contexts: list[Path] = []
        """The shards' context logs, for :meth:`collate_contexts` (several shards only)."""
        self.process: BaseProcess | None = None
        if count == 1:
            return
        context = process_context()
        self.receive, send = context.Pipe(duplex=False)
        listen, self.order = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_merge, args=(listen, out, send, self.order), daemon=True
        )
        self.process.start()
        send.close()
        listen.close()

    def begin(self, shards: list[ShardResult]) -> None:
        """Start on the finished shards' parts (one shard's are the run's files at once)."""
        contexts = [s.contexts for s in shards if s.contexts is not None]
        tables = [s.tables for s in shards]
        if self.process is None:
            self.events = shards[0].events
            shards[0].trace.replace(self.out / "trace.jsonl.gz")
            for path in contexts:
                path.replace(self.out / "contexts.jsonl.gz")
            self.population, self.truth = _tables(self.out, tables)
            return
        self.contexts = contexts
        self.order.send(([s.trace for s in shards], tables))

    def collate_contexts(self) -> None:
        """``contexts.jsonl.gz`` from the shards' context logs, in the runner's own process.

        The merge's share of the tail is the larger one (trace, tables, truth,
        then the score); the runner, once it has written the profiles, has
        nothing to do but wait for the score, so it collates the context logs
        meanwhile. With one shard there is nothing to do (:meth:`begin`).
        """
        if self.process is not None:
            collate_contexts(self.contexts, self.out / "contexts.jsonl.gz")

    def wait(self) -> int:
        """How many events the trace holds, once it and the row tables are complete on disk."""
        if self.process is not None:
            self.events, self.population = self._answer()
        return self.events

    def ask_scores(self, costs: bool) -> None:
        """Score the profiles and messages now written (``costs``: the messaging's costs too)."""
        if self.process is None:
            self.costs = costs
            return
        # A merge that already failed has closed its end: its traceback waits in the
        # answer pipe, which scores() raises, so a broken pipe here is not the error.
        with contextlib.suppress(OSError):
            self.order.send(costs)
        self.order.close()

    def scores(self) -> Scores:
        """The scores asked for with :meth:`ask_scores`."""
        if self.process is None:
            return _scores(self.out, self.truth, self.costs)
        scores: Scores = self._answer()
        self.process.join()
        return scores

    def _answer(self) -> Any:
        try:
            answer = self.receive.recv()
        except EOFError:
            raise HopsimError(f"{self.out}: the merge stopped before it finished") from None
        if isinstance(answer, WorkerFailed):
            raise HopsimError(f"{self.out}: the merge failed:\n{answer.text}")
        return answer

    def cancel(self) -> None:
        """Stop the merge process if it is still running (the run failed or was interrupted)."""
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join()


def _tables(out: Path, tables: list[list[Path]]) -> tuple[list[dict[str, Any]], dict[str, Truth]]:
    """Write the row tables; the realism rows about the population, counted off them, and
    the truth as the stitching score reads it (in the table's order): the table read once."""
    merge_tables(tables, out)
    people = read_jsonl(out / PEOPLE.name)
    truth: dict[str, Truth] = {}
    rows = reading_truth(read_jsonl(out / TRUTH.name), truth)
    figures = [f.as_row() for f in people_figures(people, rows)]
    deque(rows, maxlen=0)  # the rows the figures did not ask for, read into the truth too
    return figures, truth


def _scores(out: Path, truth: dict[str, Truth], costs: bool) -> Scores:
    """The stitching score of ``profiles.jsonl``; with ``costs``, what it cost the messages."""
    stitching = score_read(list(read_jsonl(out / PROFILES)), truth)
    if not costs:
        return Scores(stitching, None)
    messages = out / MESSAGES
    decisions = read_jsonl(messages) if messages.is_file() else iter(())
    return Scores(stitching, owner_costs(decisions, device_owners(truth)))


def device_owners(truth: dict[str, Truth]) -> dict[str, str]:
    """device id -> owning person (:func:`sim.analysis.stitch_costs.owners`), from the truth
    as the stitching score read it, in the table's order: the table is not read twice."""
    return {device: t.person for device, t in truth.items() if t.person is not None}


def _merge(listen: Connection, out: Path, done: Connection, order: Connection) -> None:
    """The merge process: collate, count, read the truth; then score when told."""
    order.close()  # the runner's end, forked with us: closed, so a runner that dies reads as EOF
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to answer (it stops us)
    # NOTE: speed only, same bytes (tests/test_gc.py): a process that reads tables and ends
    # makes next to no cyclic garbage; collections would only walk the truth it holds again.
    hold_collections()
    try:
        _collate_and_score(listen, out, done)
    except Exception:  # handed to the runner, which raises it
        with contextlib.suppress(OSError):
            done.send(WorkerFailed(traceback.format_exc()))
    finally:
        done.close()


def _collate_and_score(listen: Connection, out: Path, done: Connection) -> None:
    try:
        parts, tables = listen.recv()
    except EOFError:
        return  # the run ended before its shards did
    with JsonlGzWriter(out / "trace.jsonl.gz", threads=MERGE_THREADS) as writer:
        for lines in merge_minutes(parts):
            writer.write_lines(lines)
    population, truth = _tables(out, tables)  # while the runner finalizes
    done.send((writer.count, population))
    try:
        costs: bool = listen.recv()
    except EOFError:
        return  # the runner stopped before it wrote the profiles
    done.send(_scores(out, truth, costs))


# NOTE: lines collated as the shards wrote them, decoded for their key only (tests/test_merge.py).
def collate_contexts(parts: list[Path], path: Path) -> None:
    """The context logs' lines in the run's order (:func:`~sim.trace.sink.context_key`).

    A shard wrote each line as the run writes it (one encoder, sorted keys),
    so a line goes on as read: decoding it for its order key is the only
    work, as when the rows were decoded and encoded again.
    """
    piles = [_keyed_contexts(part) for part in parts]
    with JsonlGzWriter(path) as writer:
        batch: list[bytes] = []
        for _, line in heapq.merge(*piles, key=_context_order):
            batch.append(line)
            if len(batch) >= CONTEXT_LINES:
                writer.write_lines(batch)
                batch = []
        writer.write_lines(batch)


CONTEXT_LINES = 4096


def _keyed_contexts(part: Path) -> Iterator[tuple[tuple[str, str], bytes]]:
    for number, line in iter_lines(part):
        yield context_key(parse_line(part, number, line)), line


def _context_order(item: tuple[tuple[str, str], bytes]) -> tuple[str, str]:
    return item[0]
