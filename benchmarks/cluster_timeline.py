"""Where a run's wall time goes, process by process: local worker processes or a Dask cluster.

    .venv/bin/python -m benchmarks.cluster_timeline --persons 100000 [--cluster local]

Runs ``hopsim run``'s own :class:`Run` in this process (``--workers 2``,
or ``--cluster local --workers 2``) and prints its timeline, every moment in
seconds from the run's start: the runner's phases (the workers' start,
simulate, the tail, the workers' close), then every process the run started,
sampled every 0.05 s: its role (Dask worker, a Dask worker's own worker
process, a shard's child, the trace merge), which process started it, when
it started and was last seen, and its CPU seconds (user + system, the last
value seen). A shard's child is one shard run through (``shard_apart``), so
the rows show which worker ran how many shards and when. The total CPU is
the runner's own (``getrusage``) plus every other process's last value.
Not part of ``make bench``; results go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from benchmarks.run_phases import run_arguments, runner_cpu, scenario_of
from sim.runner import Run
from sim.runner.cluster import ClusterWorkers
from sim.runner.workers import LocalWorkers


@dataclass
class Seen:
    """One process of the run, as last sampled."""

    pid: int
    parent: int
    command: str
    started: float
    last: float
    cpu: float


class Timeline:
    """Marks (named moments of the runner) and every process of the run, sampled."""

    def __init__(self) -> None:
        self.zero = time.time()
        self.marks: list[tuple[float, str]] = []
        self.seen: dict[int, Seen] = {}
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def born(self, pid: int) -> float:
        """When process ``pid`` started, on our clock (``/proc``: to the clock tick; psutil's
        ``create_time`` counts from a boot time rounded to the second)."""
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        boot = time.time() - uptime
        return boot + ticks / os.sysconf("SC_CLK_TCK") - self.zero

    def mark(self, name: str) -> None:
        self.marks.append((time.time() - self.zero, name))

    @contextmanager
    def span(self, name: str) -> Iterator[None]:
        self.mark(f"{name} begins")
        try:
            yield
        finally:
            self.mark(f"{name} ends")

    def _sample(self) -> None:
        me = psutil.Process()
        while self.running:
            now = time.time() - self.zero
            for process in me.children(recursive=True):
                try:
                    with process.oneshot():
                        times = process.cpu_times()
                        seen = self.seen.get(process.pid)
                        if seen is None:
                            seen = self.seen[process.pid] = Seen(
                                process.pid,
                                process.ppid(),
                                " ".join(process.cmdline()),
                                self.born(process.pid),
                                now,
                                0.0,
                            )
                        seen.last, seen.cpu = now, times.user + times.system
                except psutil.Error:
                    continue
            time.sleep(0.05)


def role(seen: Seen, table: dict[int, Seen], runner: int) -> str:
    """What a process of the run is, from its command and its parent's."""
    parent = table.get(seen.parent)
    if parent is not None and "import serve" in parent.command:
        return "shard child"
    if "import serve" in seen.command:
        return "a Dask worker's worker process"
    if "resource_tracker" in seen.command:
        return "resource tracker"
    if "spawn_main" in seen.command:
        return "Dask worker"
    if parent is not None and parent.parent == runner:
        return "shard child"
    return "worker process or merge"


def timed(timeline: Timeline, cls: type[Any], name: str) -> None:
    """Mark the start and end of ``cls.name`` on the timeline."""
    original: Callable[..., Any] = getattr(cls, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with timeline.span(f"{cls.__name__}.{name}"):
            return original(*args, **kwargs)

    setattr(cls, name, wrapper)


class TimedRun(Run):
    """A ``Run`` whose phases are marked on a timeline (same outputs)."""

    timeline: Timeline

    def phase(self, name: str) -> AbstractContextManager[None]:
        return self.timeline.span(name)


def main() -> None:
    parser = run_arguments(__doc__.splitlines()[0])
    parser.add_argument("--cluster", default=None, help="a Dask scheduler address, or local")
    args = parser.parse_args()
    scenario = scenario_of(args)
    timeline = Timeline()
    for cls in (LocalWorkers, ClusterWorkers):
        for name in ("__init__", "through", "close"):
            timed(timeline, cls, name)
    started = runner_cpu()
    with tempfile.TemporaryDirectory(prefix="cluster-timeline-") as tmp:
        run = TimedRun(scenario, Path(tmp) / "run", args.workers, args.cluster)
        run.timeline = timeline
        with timeline.span("run"):
            summary = run.execute()
    time.sleep(0.2)
    timeline.running = False
    timeline.thread.join()
    own = runner_cpu() - started
    others = sum(s.cpu for s in timeline.seen.values())
    wall = next(t for t, n in timeline.marks if n == "run ends")
    print(f"{summary['persons']:,} persons x {args.days} day(s), "
          f"{'--cluster ' + args.cluster if args.cluster else 'local'} --workers {args.workers}: "
          f"{wall:.1f} s, CPU {own + others:.1f} s (runner {own:.1f} s, others {others:.1f} s), "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    for moment, name in timeline.marks:
        print(f"  {moment:7.2f} s  {name}")
    runner = os.getpid()
    print(f"  {'pid':>7} {'parent':>7} {'role':<40} {'start':>7} {'last':>7} {'CPU':>6}")
    by_role: dict[str, float] = {"runner": own}
    for seen in sorted(timeline.seen.values(), key=lambda s: s.started):
        name = role(seen, timeline.seen, runner)
        by_role[name] = by_role.get(name, 0.0) + seen.cpu
        print(f"  {seen.pid:7d} {seen.parent:7d} {name:<40} "
              f"{seen.started:7.2f} {seen.last:7.2f} {seen.cpu:6.2f}")  # fmt: skip
    print("  CPU by role: " + ", ".join(f"{k} {v:.2f} s" for k, v in by_role.items()))


if __name__ == "__main__":
    main()
