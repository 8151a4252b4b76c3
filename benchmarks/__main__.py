"""Run every ``benchmarks/bench_*.py``, print one table, then one JSON line of every case.

Missed targets are reported, not turned into a failing exit code: the
numbers are for people and trend lines, and a noisy shared machine must not
make ``make bench`` look broken.

``python -m benchmarks [NAME ...]`` runs only the modules whose name contains NAME.
Each module runs in a fresh interpreter, so one benchmark's heap, threads
and imports never weigh on the next one's numbers.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

from benchmarks import Result


def discover(filters: list[str]) -> list[str]:
    here = Path(__file__).parent
    names = [m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")]
    return [n for n in sorted(names) if not filters or any(f in n for f in filters)]


def render(module: str, results: list[Result]) -> list[str]:
    lines = []
    for r in results:
        verdict = {None: "", True: "PASS", False: "MISS"}[r.ok]
        sign = ">=" if r.higher_is_better else "<="
        target = f"target {sign} {r.target:g}" if r.target is not None else ""
        lines.append(
            f"{module:<16} {r.name:<44} {r.value:>14,.3f} {r.unit:<10} "
            f"{target:<18} {verdict} {r.note}"
        )
    return lines


def as_json(cases: dict[str, Result]) -> str:
    """The last line of ``make bench``: one JSON object of every measured case."""
    table = {
        case: {"value": r.value, "unit": r.unit, "target": r.target, "ok": r.ok}
        for case, r in cases.items()
    }
    return json.dumps({"bench": table}, sort_keys=True)


def run_one(name: str) -> list[Result]:
    """Run one module in a child interpreter; its results come back as its last line."""
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--one", name],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    rows = json.loads(child.stdout.strip().splitlines()[-1])
    return [Result(**row) for row in rows]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        module = importlib.import_module(f"benchmarks.{argv[1]}")
        print(json.dumps([dataclasses.asdict(r) for r in module.run()]))
        return 0
    cases: dict[str, Result] = {}
    for name in discover(argv):
        results = run_one(name)
        for line in render(name.removeprefix("bench_"), results):
            print(line, flush=True)
        cases.update({f"{name.removeprefix('bench_')}: {r.name}": r for r in results})
    missed = sum(1 for r in cases.values() if r.ok is False)
    print(f"bench: {missed} target(s) missed")
    print(as_json(cases))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
