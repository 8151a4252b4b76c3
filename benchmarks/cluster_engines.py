"""Ray against Dask for the run's shards: start-up, one daily barrier, memory.

What ``--cluster local`` needs from an engine: start a local cluster of two
workers, place one long-lived actor (a shard) on each, and many times over
call a method on both and wait for both answers (the daily exchange). This
script measures exactly that on this machine, for whichever engines are
installed, with trivial actors so that only the engine's own cost shows:

- start-up: from nothing to two actors answering, in seconds;
- barrier: one round of "both actors answer a call with a small list" (the
  send-time fallback is 24 floats), median and p90 over ``--rounds``;
- memory: resident memory of every process of the cluster (this one and all
  its descendants) once the actors are up.

    .venv/bin/python -m benchmarks.cluster_engines --rounds 300

Not part of ``make bench`` (it starts whole clusters); the figures it printed
are in benchmarks/RESULTS.md and the choice they support in docs/scale.md.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from typing import Any

from sim.runner.resources import tree_rss


class Echo:
    """A stand-in shard: holds state, answers a day's call with 24 numbers."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.days = 0

    def day(self, pooled: list[float] | None) -> list[float]:
        self.days += 1
        return [float(self.index + self.days)] * 24


def measure_dask(rounds: int) -> dict[str, float]:
    distributed: Any = importlib.import_module("distributed")

    started = time.perf_counter()
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    workers = sorted(client.scheduler_info()["workers"])
    actors = [
        client.submit(Echo, k, actor=True, workers=[w], pure=False).result()
        for k, w in enumerate(workers)
    ]
    [a.day(None).result() for a in actors]
    startup = time.perf_counter() - started
    rss = tree_rss()
    times = []
    pooled: list[float] | None = None
    for _ in range(rounds):
        t = time.perf_counter()
        futures = [a.day(pooled) for a in actors]
        answers = [f.result() for f in futures]
        pooled = [sum(col) for col in zip(*answers, strict=True)]
        times.append(time.perf_counter() - t)
    client.close()
    cluster.close()
    return summary("dask", startup, times, rss)


def measure_ray(rounds: int) -> dict[str, float]:
    ray: Any = importlib.import_module("ray")

    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=1)(Echo)
    actors: list[Any] = [remote.remote(k) for k in range(2)]  # type: ignore[attr-defined]
    ray.get([a.day.remote(None) for a in actors])
    startup = time.perf_counter() - started
    rss = tree_rss()
    times = []
    pooled: list[float] | None = None
    for _ in range(rounds):
        t = time.perf_counter()
        answers = ray.get([a.day.remote(pooled) for a in actors])
        pooled = [sum(col) for col in zip(*answers, strict=True)]
        times.append(time.perf_counter() - t)
    ray.shutdown()
    return summary("ray", startup, times, rss)


def summary(name: str, startup: float, times: list[float], rss: int) -> dict[str, float]:
    ordered = sorted(times)
    row = {
        "startup_s": round(startup, 2),
        "barrier_median_ms": round(statistics.median(ordered) * 1000, 2),
        "barrier_p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 2),
        "rss_mb": round(rss / 2**20),
    }
    print(name, row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--engine", choices=("dask", "ray", "both"), default="both")
    args = parser.parse_args()
    if args.engine in ("dask", "both"):
        measure_dask(args.rounds)
    if args.engine in ("ray", "both"):
        measure_ray(args.rounds)


if __name__ == "__main__":
    main()
