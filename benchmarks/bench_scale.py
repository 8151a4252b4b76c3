"""Person-days per second end to end, and peak memory per simulated person.

What a user feels is how many people and days a run gets through on the
machine they have. Each case is one whole ``hopsim run`` of the default
population (``scenarios/population.toml`` at its own size) as a child
process, from start to exit: trace, truth, profiles, messages and summary
written; the report skipped (``--no-report``). While it runs, the resident
memory of the child and every process it started (workers, trace merge, a
local cluster's scheduler and workers) is summed every 0.1 s; the peak of
that sum, divided by the persons simulated, is memory per person.

Cases: ``--workers 1``, ``--workers 2``, and (with the cluster extra
installed) ``--cluster local --workers 2``. Rounds alternate the cases so
all see the same machine; each case keeps its best round.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from benchmarks import Result
from sim.runner.resources import tree_rss

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "population.toml"
ROUNDS = 2
SAMPLE_SECONDS = 0.1
CLUSTER_TARGET = 0.9  # issue 16: a local 2-worker cluster at >= 0.9x the local 2-worker runner


@dataclass(frozen=True)
class Measured:
    """One whole run: person-days simulated, seconds from start to exit, peak bytes resident."""

    person_days: int
    persons: int
    wall: float
    peak_rss: int

    @property
    def rate(self) -> float:
        return self.person_days / self.wall


def measure(out: Path, *flags: str) -> Measured:
    """``hopsim run`` of the default population into ``out``, watched from outside."""
    command = [sys.executable, "-m", "sim.cli", "run", str(SCENARIO), "--out", str(out)]
    command += ["--no-report", "--quiet", *flags]
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    peak = 0
    while child.poll() is None:
        peak = max(peak, tree_rss(child.pid))
        time.sleep(SAMPLE_SECONDS)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: exit status {child.returncode}")
    summary = json.loads((out / "summary.json").read_text())
    persons = int(summary["persons"])
    return Measured(persons * int(summary["days"]), persons, wall, peak)


def cases() -> dict[str, list[str]]:
    table = {"1 worker": ["--workers", "1"], "2 workers": ["--workers", "2"]}
    if find_spec("distributed") is not None:
        table["local Dask cluster, 2 workers"] = ["--cluster", "local", "--workers", "2"]
    return table


def run() -> list[Result]:
    best: dict[str, Measured] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for round_ in range(ROUNDS):
            for k, (name, flags) in enumerate(cases().items()):
                got = measure(Path(tmp) / f"round{round_}-case{k}", *flags)
                if name not in best or got.rate > best[name].rate:
                    best[name] = got
    results = []
    for name, got in best.items():
        note = f"{got.person_days:,} person-days in {got.wall:.1f} s"
        results.append(Result(f"person-days/s, {name}", got.rate, "pd/s", note=note))
        per_person = got.peak_rss / got.persons / 1024
        peak = f"peak {got.peak_rss / 2**20:,.0f} MB over all processes"
        results.append(Result(f"peak RSS per person, {name}", per_person, "KB", note=peak))
    one, two = best["1 worker"], best["2 workers"]
    results.append(Result("2 workers over 1 (person-days/s)", two.rate / one.rate, "x"))
    cluster = best.get("local Dask cluster, 2 workers")
    if cluster is not None:
        ratio = cluster.rate / two.rate
        results.append(Result("local cluster over 2 local workers", ratio, "x", CLUSTER_TARGET))
    return results
