"""The runner's tail again and again from one simulation: absorb, finalize, merge, scores.

    .venv/bin/python -m benchmarks.tail_replay --persons 300000 --saved /tmp/tail-300k

The first call simulates as ``hopsim run`` does (``--days 1``, ``--workers``)
and keeps the shards' results and their parts under ``--saved``; every
later call with the same ``--saved`` skips the simulation, puts copies of the
parts back and runs only the tail, timed step by step as
``benchmarks.run_phases`` times it (wall, runner CPU, other processes' CPU).
The run folder is written under ``--saved`` too (``run/``), so two trees can
be compared byte for byte on one simulation. Not part of ``make bench``; a
by-hand measurement for the tail (benchmarks/RESULTS.md, ``tail4``).
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
from pathlib import Path

from benchmarks.run_phases import ROOT, TimedRun, Watch
from sim.runner.shard import Progress, ShardResult
from sim.runner.workers import Deal
from sim.world.scenario import load_scenario


class ReplayedRun(TimedRun):
    """A timed run whose simulation is done once and then read back from ``saved``."""

    saved: Path

    def _simulate(self, parts: Path, plan: Deal, progress: Progress | None) -> list[ShardResult]:
        results = self.saved / "shards.pickle"
        if results.exists():
            shutil.rmtree(parts)
            shutil.copytree(self.saved / "parts", parts)
            with results.open("rb") as handle:
                shards: list[ShardResult] = pickle.load(handle)
            return shards
        shards = super()._simulate(parts, plan, progress)
        shutil.copytree(parts, self.saved / "parts")
        with results.open("wb") as handle:
            pickle.dump(shards, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return shards


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "population.toml")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--saved", type=Path, required=True, help="where the simulation is kept")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario).with_overrides(args.persons, 1)
    args.saved.mkdir(parents=True, exist_ok=True)
    out = args.saved / "run"
    shutil.rmtree(out, ignore_errors=True)  # the run folder a shard result's paths point into
    run = ReplayedRun(scenario, out, args.workers)
    run.saved = args.saved
    run.watch = watch = Watch()
    with watch("run"):
        run.execute()
    watch.running = False
    print(f"  {'phase':<16} {'wall':>8} {'runner CPU':>11} {'others CPU':>11}")
    for name in [n for n in watch.order if n != "run"]:
        print(f"  {name:<16} {watch.seconds[name]:7.1f}s "
              f"{watch.runner_cpu[name]:10.1f}s {watch.children_cpu[name]:10.1f}s")  # fmt: skip

    def after(table: dict[str, float]) -> float:
        return table["run"] - table.get("simulate", 0.0)

    print(f"  tail (after simulate): {after(watch.seconds):.1f} s wall, "
          f"runner CPU {after(watch.runner_cpu):.1f} s, "
          f"others CPU {after(watch.children_cpu):.1f} s, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
