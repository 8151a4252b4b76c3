"""A local 2-worker Dask cluster against two local worker processes, run after run.

    .venv/bin/python -m benchmarks.cluster_ratio --persons 50000 --rounds 3

Issue 16's target: on a local 2-worker cluster, person-days per second at
least 0.9x of ``--workers 2`` with the local runner. On a shared machine one
pair of runs says more about the load than the code, so the two cases
alternate (local, cluster, local, cluster ...), each a whole ``hopsim run``
of the default population watched from outside
(:func:`benchmarks.bench_scale.measure`), and each round's ratio is of two
runs next to each other in time. The load average is printed beside every
run, and its CPU seconds (user + system of every process of the run: the
runner's children, each waited for by its parent, counted in ours). Not part of ``make bench`` (minutes long); results go to
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from benchmarks.bench_scale import measure
from benchmarks.run_phases import children_cpu

CASES = {"local": ["--workers", "2"], "dask": ["--cluster", "local", "--workers", "2"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = ["--persons", str(args.persons), "--days", str(args.days), "--seed", str(args.seed)]
    ratios = []
    with tempfile.TemporaryDirectory(prefix="cluster-ratio-") as tmp:
        for round_ in range(args.rounds):
            walls = {}
            for name, flags in CASES.items():
                before, cpu = os.getloadavg()[0], children_cpu()
                got = measure(Path(tmp) / f"{round_}-{name}", *size, *flags)
                walls[name] = got.wall
                print(
                    f"round {round_ + 1} {name:5s} {got.wall:6.1f} s "
                    f"{got.rate:7.0f} person-days/s CPU {children_cpu() - cpu:6.1f} s "
                    f"peak {got.peak_rss / 2**30:.2f} GB "
                    f"load {before:.1f} -> {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
            ratios.append(walls["local"] / walls["dask"])
            print(f"round {round_ + 1} dask over local: {ratios[-1]:.3f}x", flush=True)
    print(f"median of {len(ratios)} rounds: {statistics.median(ratios):.3f}x")


if __name__ == "__main__":
    main()
