"""One run of a scenario: the object that wires config, seed, workers and collectors.

Like Locust's Environment, a ``Run`` holds everything a run needs. It deals
the households to worker shards (:mod:`sim.shard`), merges their traces in
the one total order of a trace (timestamp, then messageId), stitches the
merged trace with the reference engine, scores it against the truth, and
writes the run folder.
"""

from __future__ import annotations

import heapq
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, wait
from datetime import UTC, datetime
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any

import orjson

from sim.engine.engine import Engine
from sim.shard import ShardResult, simulate_shard
from sim.trace.events import SegmentEvent, iso_ms
from sim.trace.sink import context_key, order_key
from sim.trace.writer import JsonlGzWriter, read_jsonl, read_lines, write_jsonl, write_jsonl_gz
from sim.world.journey import STAGES
from sim.world.scenario import Scenario

Progress = Callable[[float, int], None]
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
        self._engine: Engine | None = None

    def execute(self, progress: Progress | None = None) -> dict[str, Any]:
        self.out.mkdir(parents=True, exist_ok=True)
        parts = self.out / ".shards"
        parts.mkdir(exist_ok=True)
        started = time.perf_counter()
        shards = self._simulate(parts, progress)
        events = self._merge_traces(shards)
        profiles, identity_stats = self._profiles(shards)
        wall = time.perf_counter() - started
        truth = sorted((row for s in shards for row in s.truth), key=truth_order)
        self._write_tables(shards, truth, profiles)
        shutil.rmtree(parts)
        self.summary = self._summary(shards, events, wall)
        self.summary["stitching"] = stitching_summary(profiles, truth, identity_stats)
        if any(s.messaging for s in shards):
            self.summary["messaging"] = merge_counts([s.messaging for s in shards])
        (self.out / "summary.json").write_text(
            json.dumps(self.summary, indent=2, sort_keys=True) + "\n"
        )
        return self.summary

    def _simulate(self, parts: Path, progress: Progress | None) -> list[ShardResult]:
        if self.workers == 1:
            return [simulate_shard(self.scenario, parts, 0, 1, progress)]
        context = get_context("fork" if "fork" in get_all_start_methods() else "spawn")
        shares = context.Array("d", self.workers, lock=False)
        counts = context.Array("q", self.workers, lock=False)
        with ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_share_progress, initargs=(shares, counts)
        ) as pool:
            futures = [
                pool.submit(_shard_with_progress, self.scenario, parts, k, self.workers)
                for k in range(self.workers)
            ]
            while wait(futures, timeout=0.25).not_done:
                if progress is not None:
                    progress(min(shares) if len(shares) else 0.0, sum(counts))
            return [f.result() for f in futures]

    def _merge_traces(self, shards: list[ShardResult]) -> int:
        """Merge shard traces into one file, stitching the merged stream on the way."""
        target = self.out / "trace.jsonl.gz"
        if len(shards) == 1:
            shards[0].trace.replace(target)
            return shards[0].events
        stitcher = self._stitcher()
        with JsonlGzWriter(target) as writer:
            for _key, line, event in heapq.merge(*(keyed(s.trace) for s in shards)):
                writer.write_line(line)
                stitcher.ingest(event)
            return writer.count

    def _merge_contexts(self, shards: list[ShardResult]) -> None:
        target = self.out / "contexts.jsonl.gz"
        paths = [s.contexts for s in shards if s.contexts is not None]
        if len(paths) == 1:
            paths[0].replace(target)
            return
        rows = heapq.merge(*(read_jsonl(p) for p in paths), key=context_key)
        write_jsonl_gz(target, rows)

    def _stitcher(self) -> Engine:
        """The engine that stitches the merged trace of several shards."""
        if self._engine is None:
            self._engine = Engine(dict(self.scenario.identity))
        return self._engine

    def _profiles(self, shards: list[ShardResult]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """One shard stitched in its loop already; several are stitched as one merged trace."""
        if len(shards) == 1:
            return shards[0].profiles, shards[0].identity_stats
        identity = self._stitcher().identity
        identity.finalize()  # type: ignore[attr-defined]
        stats: dict[str, Any] = identity.stats()  # type: ignore[attr-defined]
        return [p.as_json() for p in identity.profiles()], stats

    def _write_tables(
        self, shards: list[ShardResult], truth: list[dict[str, Any]], profiles: list[dict[str, Any]]
    ) -> None:
        out = self.out
        write_jsonl_gz(out / "truth.jsonl.gz", truth)
        self._merge_contexts(shards)
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


_SHARES: Any = None
_COUNTS: Any = None


def _share_progress(shares: Any, counts: Any) -> None:
    """Worker initialiser: where each shard reports how far it has got."""
    global _SHARES, _COUNTS
    _SHARES, _COUNTS = shares, counts


def _shard_with_progress(scenario: Scenario, parts: Path, index: int, count: int) -> ShardResult:
    def report(share: float, events: int) -> None:
        _SHARES[index] = share
        _COUNTS[index] = events

    return simulate_shard(scenario, parts, index, count, report)


def keyed(path: Path) -> Iterator[tuple[tuple[str, str], bytes, SegmentEvent]]:
    """A shard trace as (order key, raw line, event): merged without re-encoding."""
    for line in read_lines(path):
        event: SegmentEvent = orjson.loads(line)
        yield order_key(event), line, event


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
