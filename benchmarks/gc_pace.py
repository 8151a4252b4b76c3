"""Wall and CPU time of one in-process run at a given GC young threshold (sim/runner/gc.py).

.venv/bin/python benchmarks/gc_pace.py YOUNG PERSONS DAYS
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import sim.runner.gc
from sim.runner import Run
from sim.world.scenario import load_scenario


def main() -> None:
    young, persons, days = (int(arg) for arg in sys.argv[1:4])
    sim.runner.gc.fewer_collections.__defaults__ = (young,)
    scenario = load_scenario(Path("scenarios/population.toml")).with_overrides(
        persons=persons, days=days
    )
    with tempfile.TemporaryDirectory() as folder:
        wall, cpu = time.perf_counter(), time.process_time()
        Run(scenario, Path(folder) / "run").execute()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(young, "wall", round(wall, 2), "cpu", round(cpu, 2), flush=True)


if __name__ == "__main__":
    main()
