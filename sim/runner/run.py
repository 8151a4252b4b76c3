"""One run of a scenario: the object that wires config, seed, workers and collectors.

Like Locust's Environment, a ``Run`` holds everything a run needs. It deals
the households to worker shards (:mod:`sim.runner.shard`, driven a slice of
a day at a time wherever they live: :mod:`sim.runner.workers`), absorbs
their identity graphs into one and finalizes it, and writes the run folder;
the merge (:mod:`sim.runner.merge`) collates the shards' traces and tables
and scores the stitching against the truth beside it, on the other core.

A run folder never holds a half-written file under a final name: every
output is written into ``<out>/.partial/`` and moved to its name when the
whole run is done (``summary.json`` last), and an interrupted run removes
``.partial/`` on its way out.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.analysis.compare_programme import programme_summary
from sim.analysis.journey_metrics import journey_block
from sim.analysis.metrics_config import metrics_config
from sim.analysis.realism import Collected, figures, switch_rate
from sim.analysis.realism_journey import metrics_figures
from sim.engine.engine import load_identity_config
from sim.engine.identity import GraphStats, IdentityGraph
from sim.errors import HopsimError
from sim.runner.cluster import ClusterWorkers
from sim.runner.gc import hold_collections, let_go, resume
from sim.runner.merge import Merge
from sim.runner.shard import Progress, ShardResult
from sim.runner.workers import BATCH_PERSONS, Deal, LocalWorkers, Workers, deal, drive
from sim.trace.clock import iso_ms
from sim.trace.writer import write_jsonl
from sim.world.journey import STAGES
from sim.world.scenario import Scenario


def default_out(scenario: Scenario, root: Path = Path("reports")) -> Path:
    return root / f"{scenario.name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"


class Run:
    """Simulate a scenario into ``out``: trace, truth, profiles, messages and summary."""

    def __init__(
        self,
        scenario: Scenario,
        out: Path,
        workers: int = 1,
        cluster: str | None = None,
        batch: int = BATCH_PERSONS,
    ) -> None:
        self.scenario = scenario
        self.out = out
        self.workers = workers
        self.cluster = cluster  # a Dask scheduler address, "local", or None: this machine
        self.batch = batch  # persons per shard at most, when shards may run one after another
        self.summary: dict[str, Any] = {}
        self.metrics = metrics_config(scenario)  # a bad [channels.*] fails before simulating

    @property
    def staging(self) -> Path:
        """Where outputs are written until the run is complete (``<out>/.partial``)."""
        return self.out / PARTIAL

    def execute(self, progress: Progress | None = None) -> dict[str, Any]:
        self.out.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.staging, ignore_errors=True)  # what an earlier interrupted run left
        self.staging.mkdir()
        try:
            summary = self._execute(progress)
        except BaseException:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise
        publish(self.staging, self.out)
        return summary

    def _execute(self, progress: Progress | None) -> dict[str, Any]:
        parts = self.staging / ".shards"
        parts.mkdir(exist_ok=True)
        started = time.perf_counter()
        plan = deal(self.scenario, self.workers, self.batch)
        merge = Merge(self.staging, plan.count)
        try:
            with self.phase("simulate"):
                shards = self._simulate(parts, plan, progress)
            merge.begin(shards)  # trace, row tables, truth: the merge, beside finalize
            profiles, identity_stats = self._profiles(shards)
            with self.phase("tables"):
                self._write_tables(shards, profiles)
            merge.ask_scores(any(s.messaging for s in shards))  # the merge scores the profiles
            with self.phase("contexts"):  # the runner's share of the merge, while it scores
                merge.collate_contexts()
            with self.phase("journey metrics"):  # the shards' tallies, while the merge scores
                journey = self.journey_metrics(shards, profiles)
            del profiles
            with self.phase("merge wait"):
                events = merge.wait()
            wall = time.perf_counter() - started
            with self.phase("summary"):
                self.summary = self._summary(shards, events, wall)
                self.summary["realism"]["figures"] += merge.population
                self.summary["journey_metrics"] = journey
            with self.phase("scores wait"):
                scores = merge.scores()
        finally:
            merge.cancel()
        shutil.rmtree(parts)
        self.summary["stitching"] = scores.stitching | {"engine": identity_stats}
        self._messaging(shards, scores.costs)
        bounce = metrics_figures(self.summary["journey_metrics"], self.scenario.brand)
        self.summary["realism"]["figures"] += [f.as_row() for f in bounce]
        (self.staging / "summary.json").write_text(
            json.dumps(self.summary, indent=2, sort_keys=True) + "\n"
        )
        return self.summary

    def journey_metrics(
        self, shards: list[ShardResult], profiles: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The strategist's metrics (docs/metrics.md): every shard read its own part of the
        trace into a tally; added up here, the visitors named by their stitched profiles."""
        missing = [i for i, s in enumerate(shards) if s.metrics is None]
        if missing:
            raise HopsimError(
                f"shards {missing} sent no journey tally: the metrics would undercount"
            )
        tallies = [s.metrics for s in shards if s.metrics is not None]
        start, days = self.scenario.start.timestamp(), self.scenario.days
        return journey_block(tallies, profiles, start, days, self.metrics)

    def phase(self, name: str) -> AbstractContextManager[None]:
        """A named step of the run (``benchmarks.run_phases`` times them; here, nothing)."""
        return nullcontext()

    def _messaging(self, shards: list[ShardResult], costs: dict[str, int] | None) -> None:
        if any(s.messaging for s in shards):
            self.summary["messaging"] = merge_counts([s.messaging for s in shards])
            self.summary["messaging"].update(costs or {})  # issue 14: stitching's cost
            if "programme" in self.summary["messaging"]:  # counts merged; now the lift
                share = float(self.scenario.programme.get("control_percent", 0))
                programme = programme_summary(self.summary["messaging"]["programme"], share)
                self.summary["messaging"]["programme"] = programme
        if any(s.programs for s in shards):  # journeys: not the `journeys` touchpoint paths
            self.summary["journey_programs"] = merge_counts([s.programs for s in shards])

    def _simulate(self, parts: Path, plan: Deal, progress: Progress | None) -> list[ShardResult]:
        workers = self._workers(parts)
        try:
            return drive(workers, plan, self.scenario.days, progress)
        finally:
            workers.close()

    def _workers(self, parts: Path) -> Workers:
        """Where the shards live: this machine, or actors on a Dask cluster."""
        if self.cluster is None:
            return LocalWorkers(self.scenario, parts, self.workers)
        return ClusterWorkers(self.scenario, parts, self.workers, self.cluster)

    def _profiles(self, shards: list[ShardResult]) -> tuple[list[dict[str, Any]], GraphStats]:
        """One graph from every shard's graph, then the batch rules over all of it.

        The collector is held meanwhile (:func:`~sim.runner.gc.hold_collections`):
        the graph is millions of objects made, kept to the end and let go at
        once, and every collection meanwhile would only walk them again; one
        collection after the graph is gone frees its cycles.
        """
        # NOTE: speed only, same bytes (tests/test_gc.py): no collections while the graph lives.
        held = hold_collections()
        try:
            stitched = self._stitch(shards)
        except BaseException:
            resume(held)  # no collection while the traceback still holds the graph
            raise
        with self.phase("let go"):
            let_go(held)
        return stitched

    def _stitch(self, shards: list[ShardResult]) -> tuple[list[dict[str, Any]], GraphStats]:
        config = load_identity_config(dict(self.scenario.identity))
        with self.phase("absorb"):
            parts = [s.identity for s in shards if s.identity is not None]
            graph = IdentityGraph.absorb(parts, config)
            del parts
            for shard in shards:
                shard.identity = None  # the absorbed graph was made of them: let it go
        with self.phase("finalize"):
            graph.finalize()
        with self.phase("profiles"):
            return [p.as_json() for p in graph.profiles()], graph.stats()

    def _write_tables(self, shards: list[ShardResult], profiles: list[dict[str, Any]]) -> None:
        """Write the tables the runner holds: profiles, messages, journey steps.

        (Truth, people and journeys are the merge's: :mod:`sim.runner.tables`.)
        """
        out = self.staging
        write_jsonl(out / "profiles.jsonl", profiles)
        if any(s.messages for s in shards):
            messages = sorted(
                (r for s in shards for r in s.messages),
                key=lambda r: (r["at"], r["profile_id"], r["device_id"]),
            )
            write_jsonl(out / "messages.jsonl", messages)
        if any(s.journey_steps for s in shards):
            steps = (r for s in shards for r in s.journey_steps)
            order = sorted(steps, key=lambda r: (r["at"], r["profile_id"], r["run"]))
            write_jsonl(out / "journey_steps.jsonl", order)

    def _summary(self, shards: list[ShardResult], events: int, wall: float) -> dict[str, Any]:
        tally = merge_counts([s.tallies for s in shards])
        journeys = [r for s in shards for r in s.journeys]
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
            "realism": realism_summary(self.scenario, tally["outcomes"], journeys),
            "funnel": {stage: tally["funnel"].get(stage, 0) for stage in STAGES},
            "journeys": {"orders": tally["orders"], "top_paths": top_paths(journeys)},
        }


PARTIAL = ".partial"


def publish(staging: Path, out: Path) -> None:
    """Move every finished output to its name in ``out``, ``summary.json`` last."""
    names = sorted(p.name for p in staging.iterdir() if p.is_file() and p.name != "summary.json")
    for name in [*names, "summary.json"]:
        (staging / name).replace(out / name)
    staging.rmdir()


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


def realism_summary(
    scenario: Scenario, outcomes: dict[str, Any], journeys: list[dict[str, Any]]
) -> dict[str, Any]:
    """``realism``: the switch rate and every simulated-vs-published row (sim.analysis.realism)."""
    switch = switch_rate(outcomes)
    collected = Collected(scenario.brand, scenario.days, outcomes, journeys)
    return {
        "switch_rate": switch["value"],
        "switch_rate_definition": switch["definition"],
        "switch_by_day": switch["by_day"],
        "figures": [figure.as_row() for figure in figures(collected)],
    }
