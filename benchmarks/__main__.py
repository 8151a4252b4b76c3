"""Run every ``benchmarks/bench_*.py`` and print one table; exit 1 if a target is missed.

``python -m benchmarks [NAME ...]`` runs only the modules whose name contains NAME.
"""

from __future__ import annotations

import importlib
import pkgutil
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


def main(argv: list[str]) -> int:
    missed = 0
    for name in discover(argv):
        module = importlib.import_module(f"benchmarks.{name}")
        results: list[Result] = module.run()
        for line in render(name.removeprefix("bench_"), results):
            print(line, flush=True)
        missed += sum(1 for r in results if r.ok is False)
    print(f"bench: {missed} target(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
