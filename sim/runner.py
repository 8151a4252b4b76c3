"""One run of a scenario: the object that wires config, seed, workers and collectors.

Like Locust's Environment, a ``Run`` holds everything a run needs. It deals
the households to worker shards (:mod:`sim.shard`), merges their traces in
the one total order of a trace (timestamp, then messageId), stitches the
merged trace with the reference engine, scores it against the truth, and
writes the run folder.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import shutil
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from sim.engine.engine import load_identity_config
from sim.engine.identity import IdentityGraph
from sim.errors import HopsimError
from sim.shard import Shard, ShardResult, simulate_shard
from sim.trace.events import iso_ms
from sim.trace.parts import merge_minutes
from sim.trace.sink import context_key
from sim.trace.writer import JsonlGzWriter, read_jsonl, write_jsonl, write_jsonl_gz
from sim.world.journey import STAGES
from sim.world.scenario import Scenario

Progress = Callable[[float, int], None]
MERGE_THREADS = 2  # gzip blocks compressed side by side once the runner's own work is done
SWITCH_SOURCE = (
    "Google, The New Multi-screen World (2012): 98% of sequential screeners"
    " move between devices in a day"
)


def default_out(scenario: Scenario, root: Path = Path("reports")) -> Path:
    return root / f"{scenario.name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"


class Run:
    """Simulate a scenario into ``out``: trace, truth, profiles, messages and summary."""

    def __init__(self, scenario: Scenario, out: Path, workers: int = 1) -> None:
        self.scenario = scenario
        self.out = out
        self.workers = workers
        self.summary: dict[str, Any] = {}

    def execute(self, progress: Progress | None = None) -> dict[str, Any]:
        self.out.mkdir(parents=True, exist_ok=True)
        parts = self.out / ".shards"
        parts.mkdir(exist_ok=True)
        started = time.perf_counter()
        shards = self._simulate(parts, progress)
        merge = TraceMerge(shards, self.out)
        profiles, identity_stats = self._profiles(shards)
        events = merge.wait()
        wall = time.perf_counter() - started
        truth = sorted((row for s in shards for row in s.truth), key=truth_order)
        self._write_tables(shards, truth, profiles)
        shutil.rmtree(parts)
        self.summary = self._summary(shards, events, wall)
        self.summary["stitching"] = stitching_summary(profiles, truth, identity_stats)
        if any(s.messaging for s in shards):
            self.summary["messaging"] = merge_counts([s.messaging for s in shards])
            self.summary["messaging"].update(stitching_costs(shards, truth))
        (self.out / "summary.json").write_text(
            json.dumps(self.summary, indent=2, sort_keys=True) + "\n"
        )
        return self.summary

    def _simulate(self, parts: Path, progress: Progress | None) -> list[ShardResult]:
        if self.workers == 1:
            return [simulate_shard(self.scenario, parts, 0, 1, progress)]
        return Lockstep(self.scenario, parts, self.workers).run(progress)

    def _profiles(self, shards: list[ShardResult]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """One graph from every shard's graph, then the batch rules over all of it."""
        config = load_identity_config(dict(self.scenario.identity))
        graph = IdentityGraph.absorb([s.identity for s in shards if s.identity is not None], config)
        graph.finalize()
        return [p.as_json() for p in graph.profiles()], graph.stats()

    def _write_tables(
        self, shards: list[ShardResult], truth: list[dict[str, Any]], profiles: list[dict[str, Any]]
    ) -> None:
        out = self.out
        write_jsonl_gz(out / "truth.jsonl.gz", truth)
        write_jsonl(
            out / "people.jsonl",
            sorted((r for s in shards for r in s.people), key=lambda r: r["person_id"]),
        )
        write_jsonl(
            out / "journeys.jsonl",
            sorted(
                (r for s in shards for r in s.journeys), key=lambda r: (r["at"], r["person_id"])
            ),
        )
        write_jsonl(out / "profiles.jsonl", profiles)
        if any(s.messages for s in shards):
            messages = sorted(
                (r for s in shards for r in s.messages),
                key=lambda r: (r["at"], r["profile_id"], r["device_id"]),
            )
            write_jsonl(out / "messages.jsonl", messages)

    def _summary(self, shards: list[ShardResult], events: int, wall: float) -> dict[str, Any]:
        tally = merge_counts([s.tallies for s in shards])
        journeys = [r for s in shards for r in s.journeys]
        days, switched = tally["switch_days"], tally["switched_days"]
        return {
            "scenario": self.scenario.name,
            "seed": self.scenario.seed,
            "days": self.scenario.days,
            "start": iso_ms(self.scenario.start),
            "workers": self.workers,
            "persons": tally["persons"],
            "households": tally["households"],
            "devices": tally["devices"],
            "events": events,
            "wall_seconds": round(wall, 3),
            "events_per_second": round(events / wall, 1) if wall > 0 else 0.0,
            "device_types": dict(sorted(tally["device_types"].items())),
            "personas": dict(sorted(tally["personas"].items())),
            "realism": {
                "switch_rate": round(switched / days, 4) if days else 0.0,
                "switch_rate_published": 0.98,
                "switch_rate_source": SWITCH_SOURCE,
            },
            "funnel": {stage: tally["funnel"].get(stage, 0) for stage in STAGES},
            "journeys": {"orders": tally["orders"], "top_paths": top_paths(journeys)},
        }


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
        self.context = _context()
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


def _context() -> ForkContext | SpawnContext:
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

        conn.send(Shard(scenario, parts, index, count).run(report, pool))
    except (EOFError, BrokenPipeError):
        pass  # the runner has given up on this run (another worker failed)
    except Exception:  # handed to the runner, which raises it with the worker's number
        with contextlib.suppress(OSError):
            conn.send(WorkerFailed(traceback.format_exc()))
    finally:
        conn.close()


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
        context = _context()
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


def _write_merged(
    parts: list[Path], target: Path, contexts: list[Path], contexts_target: Path, done: Connection
) -> None:
    """The merge process: collate the trace parts and the context logs, say how many events."""
    with JsonlGzWriter(target, threads=MERGE_THREADS) as writer:
        for lines in merge_minutes(parts):
            writer.write_lines(lines)
    rows = heapq.merge(*(read_jsonl(p) for p in contexts), key=context_key)
    write_jsonl_gz(contexts_target, rows)
    done.send(writer.count)
    done.close()


def add_up(parts: list[list[float] | None]) -> list[float] | None:
    """Hour-by-hour sums of the workers' learning (``None`` when nobody learns)."""
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return [sum(column) for column in zip(*present, strict=True)]


def truth_order(row: dict[str, Any]) -> tuple[str, str]:
    return row["household_id"], row["device_id"]


def top_paths(journeys: list[dict[str, Any]], limit: int = 3) -> list[dict[str, Any]]:
    """The most common touchpoint trails that ended in an order."""
    counter = Counter(tuple(r["path"]) for r in journeys)
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [{"path": list(path), "orders": count} for path, count in ranked]


def merge_counts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up numbers (and Counters, and nested dicts of numbers) key by key."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key not in merged:
                merged[key] = value.copy() if isinstance(value, dict | Counter) else value
            elif isinstance(value, dict):
                merged[key] = merge_counts([merged[key], value])
            elif isinstance(value, int | float) and not isinstance(value, bool):
                merged[key] += value
    return merged


def stitching_summary(
    profiles: list[dict[str, Any]], truth: list[dict[str, Any]], identity_stats: dict[str, Any]
) -> dict[str, Any]:
    from sim.analysis.stitching import score

    result: dict[str, Any] = score(profiles, truth)
    result["engine"] = identity_stats
    return result


def stitching_costs(shards: list[ShardResult], truth: list[dict[str, Any]]) -> dict[str, int]:
    """Messages that stitching errors cost (issue 14), from the decisions and the truth."""
    from sim.analysis.stitch_costs import stitching_costs as costs

    return costs((r for s in shards for r in s.messages), truth)
