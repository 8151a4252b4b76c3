"""Where a large run spends its time and memory: simulation, absorb, finalize, the rest.

    .venv/bin/python -m benchmarks.run_phases --persons 100000 --days 1 --workers 2 [--batch N]

Runs ``hopsim run``'s own :class:`Run` in this process, timing its phases:
``simulate`` (shards built and driven through every day, their results
back), ``absorb`` (one graph from every shard's graph), ``finalize`` (the
batch rules over everyone), ``profiles`` (the stitched profiles as rows),
and the rest of the run (trace merge wait, tables, scores, summary). A
thread samples the resident memory of this process and its children every
0.2 s and keeps the peak seen during each phase: the sum of resident sizes
(as the progress bar shows it; pages a forked process still shares with
its parent count once per process) and, with ``--pss``, the sum of
proportional set sizes (a shared page split between the processes that
share it, so the physical memory the run holds). Reading PSS costs system
time in this process (the kernel walks every mapping), so wall times are
taken without it. Not part of ``make bench``
(it is a by-hand measurement, minutes long); results go to
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from sim.engine.engine import load_identity_config
from sim.engine.identity import GraphStats, IdentityGraph
from sim.runner import Run
from sim.runner.resources import tree_rss
from sim.runner.shard import Progress, ShardResult
from sim.runner.workers import BATCH_PERSONS, Deal
from sim.world.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


class Watch:
    """Wall time and peak resident memory (all processes) of named phases."""

    def __init__(self, pss: bool = False) -> None:
        self.phase = "start"
        self.with_pss = pss
        self.peaks: dict[str, int] = {}
        self.pss: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            rss, pss = tree_rss(), tree_pss() if self.with_pss else 0
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), rss)
            self.pss[self.phase] = max(self.pss.get(self.phase, 0), pss)
            time.sleep(0.2)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        previous, self.phase = self.phase, name
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            self.phase = previous


def tree_pss() -> int:
    """Proportional set size of this process and its descendants (Linux; 0 where unknown)."""
    try:
        root = psutil.Process()
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        try:
            total += getattr(process.memory_full_info(), "pss", 0)
        except psutil.Error:
            continue
    return total


class TimedRun(Run):
    """A ``Run`` whose simulation and identity phases are timed (same outputs)."""

    watch: Watch

    def _simulate(self, parts: Path, plan: Deal, progress: Progress | None) -> list[ShardResult]:
        with self.watch("simulate"):
            return super()._simulate(parts, plan, progress)

    def _profiles(self, shards: list[ShardResult]) -> tuple[list[dict[str, Any]], GraphStats]:
        config = load_identity_config(dict(self.scenario.identity))
        with self.watch("absorb"):
            parts = [s.identity for s in shards if s.identity is not None]
            graph = IdentityGraph.absorb(parts, config)
        with self.watch("finalize"):
            graph.finalize()
        with self.watch("profiles"):
            return [p.as_json() for p in graph.profiles()], graph.stats()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "population.toml")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--batch", type=int, default=BATCH_PERSONS, help="persons per shard at most"
    )
    parser.add_argument("--pss", action="store_true", help="sample PSS too (slows the run)")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario).with_overrides(args.persons, args.days)
    with tempfile.TemporaryDirectory(prefix="run-phases-") as tmp:
        run = TimedRun(scenario, Path(tmp) / "run", args.workers, batch=args.batch)
        run.watch = watch = Watch(args.pss)
        with watch("run"):
            summary = run.execute()
        watch.running = False
    total = watch.seconds["run"]
    inner = sum(v for k, v in watch.seconds.items() if k != "run")
    watch.seconds["rest"] = total - inner
    print(f"{summary['persons']:,} persons x {args.days} day(s), {summary['events']:,} events, "
          f"--workers {args.workers}: {total:.1f} s, "
          f"{summary['persons'] * args.days / total:,.0f} person-days/s, "
          f"batch {args.batch:,} persons")  # fmt: skip
    for name in ("simulate", "absorb", "finalize", "profiles", "rest"):
        peak = watch.peaks.get("run" if name == "rest" else name, 0) / 2**30
        pss = watch.pss.get("run" if name == "rest" else name, 0) / 2**30
        print(f"  {name:<9} {watch.seconds.get(name, 0.0):8.1f} s   "
              f"peak RSS {peak:5.2f} GB   PSS {pss:5.2f} GB")  # fmt: skip
    print(f"  peak, whole run: RSS {max(watch.peaks.values()) / 2**30:.2f} GB, "
          f"PSS {max(watch.pss.values()) / 2**30:.2f} GB")  # fmt: skip


if __name__ == "__main__":
    main()
