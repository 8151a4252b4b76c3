"""Where a large run spends its time and memory: simulation, absorb, finalize, the rest.

    .venv/bin/python -m benchmarks.run_phases --persons 100000 --days 1 --workers 2 [--batch N]

Runs ``hopsim run``'s own :class:`Run` in this process, timing the phases it
names (``Run.phase``): ``simulate`` (shards built and driven through every
day, their results back), then the runner's tail (``absorb``: one graph
from every shard's graph, ``finalize``: the batch rules over everyone,
tables, scores, journey metrics), each in wall time and in CPU seconds of
the runner and of its other processes (workers, trace merge). A
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
import os
import resource
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psutil

from sim.runner import Run
from sim.runner.resources import tree_rss
from sim.runner.workers import BATCH_PERSONS
from sim.world.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]


class Watch:
    """Wall time, CPU seconds and peak resident memory (all processes) of named phases.

    CPU is split by process: the runner's own (``getrusage`` of this process,
    the sampling thread included) and its children's (workers and the trace
    merge, alive or reaped). On a machine shared with other work, wall time
    says more about the load than the code; CPU seconds per phase compare.
    """

    def __init__(self, pss: bool = False) -> None:
        self.phase = "start"
        self.with_pss = pss
        self.peaks: dict[str, int] = {}
        self.pss: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.runner_cpu: dict[str, float] = {}
        self.children_cpu: dict[str, float] = {}
        self.order: list[str] = []
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
        if name not in self.order:
            self.order.append(name)
        started, runner, children = time.perf_counter(), runner_cpu(), children_cpu()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            spent = runner_cpu() - runner
            self.runner_cpu[name] = self.runner_cpu.get(name, 0.0) + spent
            spent = children_cpu() - children
            self.children_cpu[name] = self.children_cpu.get(name, 0.0) + spent
            self.phase = previous


def runner_cpu() -> float:
    """User + system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu() -> float:
    """User + system CPU seconds of this process's children so far, alive and reaped."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


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
    """A ``Run`` whose phases are timed (same outputs)."""

    watch: Watch

    def phase(self, name: str) -> AbstractContextManager[None]:
        return self.watch(name)


def run_arguments(description: str) -> argparse.ArgumentParser:
    """The arguments of a timed run: scenario, persons, days and workers (100k x 1, 2 workers)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "population.toml")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    return parser


def scenario_of(args: argparse.Namespace) -> Scenario:
    """The scenario of :func:`run_arguments`' answers, at their persons and days."""
    return load_scenario(args.scenario).with_overrides(args.persons, args.days)


def main() -> None:
    parser = run_arguments(__doc__.splitlines()[0])
    parser.add_argument(
        "--batch", type=int, default=BATCH_PERSONS, help="persons per shard at most"
    )
    parser.add_argument("--pss", action="store_true", help="sample PSS too (slows the run)")
    args = parser.parse_args()
    scenario = scenario_of(args)
    with tempfile.TemporaryDirectory(prefix="run-phases-") as tmp:
        run = TimedRun(scenario, Path(tmp) / "run", args.workers, batch=args.batch)
        run.watch = watch = Watch(args.pss)
        with watch("run"):
            summary = run.execute()
        watch.running = False
    total = watch.seconds["run"]
    for table in (watch.seconds, watch.runner_cpu, watch.children_cpu):
        table["rest"] = table["run"] - sum(v for k, v in table.items() if k != "run")
    cpu = watch.runner_cpu["run"] + watch.children_cpu["run"]
    print(f"{summary['persons']:,} persons x {args.days} day(s), {summary['events']:,} events, "
          f"--workers {args.workers}: {total:.1f} s, CPU {cpu:.1f} s "
          f"(runner {watch.runner_cpu['run']:.1f} s), "
          f"{summary['persons'] * args.days / total:,.0f} person-days/s, "
          f"batch {args.batch:,} persons, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"  {'phase':<16} {'wall':>8} {'runner CPU':>11} {'others CPU':>11} "
          f"{'peak RSS':>9} {'PSS':>8}")  # fmt: skip
    for name in [n for n in watch.order if n != "run"] + ["rest"]:
        peak = watch.peaks.get("run" if name == "rest" else name, 0) / 2**30
        pss = watch.pss.get("run" if name == "rest" else name, 0) / 2**30
        print(f"  {name:<16} {watch.seconds.get(name, 0.0):7.1f}s "
              f"{watch.runner_cpu.get(name, 0.0):10.1f}s {watch.children_cpu.get(name, 0.0):10.1f}s "
              f"{peak:6.2f} GB {pss:5.2f} GB")  # fmt: skip
    tail = [n for n in watch.order if n not in ("run", "simulate")] + ["rest"]
    print(f"  tail (after simulate): {sum(watch.seconds[n] for n in tail):.1f} s wall, "
          f"runner CPU {sum(watch.runner_cpu[n] for n in tail):.1f} s, "
          f"others CPU {sum(watch.children_cpu[n] for n in tail):.1f} s")  # fmt: skip
    print(f"  peak, whole run: RSS {max(watch.peaks.values()) / 2**30:.2f} GB, "
          f"PSS {max(watch.pss.values()) / 2**30:.2f} GB")  # fmt: skip


if __name__ == "__main__":
    main()
