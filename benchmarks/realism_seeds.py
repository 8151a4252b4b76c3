"""The realism table over several seeds: where each row's expected value sits in its band.

One run's ``realism.figures`` says whether *that* sample landed in each
published band. A row whose band is narrower than its sampling noise lands
in or out by luck, and a row whose expected value sits on a band's edge lands
in half the time. Calibration needs the expected value, so this runs the same
scenario over several seeds and prints, per row: how many runs landed within,
the mean and spread of the value, the band, and where the mean sits in the
band (0 = low edge, 1 = high edge; outside [0, 1] is a systematic miss).

    .venv/bin/python -m benchmarks.realism_seeds --persons 1000 --seeds 1-10
    .venv/bin/python -m benchmarks.realism_seeds --persons 20000 --days 7 --seeds 11-12 --workers 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def seed_range(text: str) -> list[int]:
    """``"1-10"`` -> 1..10; ``"3,7"`` -> [3, 7]."""
    if "-" in text:
        low, high = text.split("-", 1)
        return list(range(int(low), int(high) + 1))
    return [int(part) for part in text.split(",")]


def run_figures(
    scenario: str, seed: int, out: Path, persons: int = 0, days: int = 0, workers: int = 1
) -> list[dict[str, Any]]:
    """One headless run (the scenario's own size where persons/days are 0); its realism rows."""
    command = [
        sys.executable, "-m", "sim.cli", "run", scenario,
        "--seed", str(seed), "--out", str(out), "--no-report", "--quiet",
        "--workers", str(workers),
    ]  # fmt: skip
    if persons:
        command += ["--persons", str(persons)]
    if days:
        command += ["--days", str(days)]
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    summary = json.loads((out / "summary.json").read_text())
    figures: list[dict[str, Any]] = summary["realism"]["figures"]
    return figures


def position(mean: float, low: float, high: float) -> str:
    """Where the mean sits in the band: 0 the low edge, 1 the high edge."""
    if high == low:
        return "point" if mean == low else ("below" if mean < low else "above")
    return f"{(mean - low) / (high - low):.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/population.toml")
    parser.add_argument("--persons", type=int, default=0)
    parser.add_argument("--days", type=int, default=0)
    parser.add_argument("--seeds", default="1-10")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    seeds = seed_range(args.seeds)
    rows: dict[str, list[dict[str, Any]]] = {}
    per_seed: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            figures = run_figures(
                args.scenario, seed, Path(tmp) / str(seed), args.persons, args.days, args.workers
            )
            per_seed.append(sum(1 for f in figures if f["within"]))
            for f in figures:
                rows.setdefault(f["name"], []).append(f)
    print(f"rows within per seed ({len(seeds)} seeds, {len(rows)} rows): {per_seed}")
    print(f"{'row':<48} {'within':>7} {'mean':>9} {'sd':>8} {'band':>19} {'pos':>6}")
    for name, found in rows.items():
        values = [f["value"] for f in found if f["value"] is not None]
        low, high = found[0]["low"], found[0]["high"]
        mean = statistics.fmean(values) if values else float("nan")
        sd = statistics.pstdev(values) if len(values) > 1 else 0.0
        hits = sum(1 for f in found if f["within"])
        band = f"{low:g}-{high:g}"
        print(
            f"{name[:48]:<48} {hits:>3}/{len(found):<3} {mean:>9.4f} {sd:>8.4f} {band:>19} "
            f"{position(mean, low, high):>6}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
