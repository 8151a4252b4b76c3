"""``hopsim run SCENARIO.toml``: simulate a scenario into a run folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run", help="simulate a scenario and write trace, truth and summary"
    )
    parser.add_argument("scenario", type=Path, help="scenario TOML file")
    parser.add_argument("--persons", type=int, help="override the scenario's population size")
    parser.add_argument("--days", type=int, help="override the number of simulated days")
    parser.add_argument("--seed", type=int, help="override the scenario's seed")
    parser.add_argument(
        "--out", type=Path, help="run folder (default reports/<scenario>-<UTC time>/)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (same trace for any count)"
    )
    parser.add_argument("--no-report", action="store_true", help="skip building report.html")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.commands.common import check_overrides
    from sim.runner import Run, default_out
    from sim.world.scenario import load_scenario

    check_overrides(args)
    scenario = load_scenario(args.scenario).with_overrides(args.persons, args.days, args.seed)
    out: Path = args.out or default_out(scenario)
    run = Run(scenario, out, args.workers)
    summary = _execute(run, args.quiet)
    print(
        f"{summary['events']:,} events from {summary['persons']:,} people "
        f"on {summary['devices']:,} devices "
        f"in {summary['wall_seconds']:.1f} s ({summary['events_per_second']:,.0f} events/s)"
    )
    print(f"run folder: {out}")
    return 0 if args.no_report else _report(out)


def _execute(run: Any, quiet: bool) -> dict[str, Any]:
    if quiet:
        summary: dict[str, Any] = run.execute()
        return summary
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[events]:>12,} events"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(f"simulating {run.scenario.name}", total=1.0, events=0)
        summary = run.execute(
            lambda share, events: bar.update(task, completed=share, events=events)
        )
    return summary


def _report(out: Path) -> int:
    """Build report.html; a failure there never costs the run folder already written."""
    from sim.errors import HopsimError
    from sim.report import build_report

    try:
        path = build_report(out)
    except HopsimError as exc:
        print(
            f"hopsim run: the run folder is complete, but the report failed: {exc}", file=sys.stderr
        )
        print(f"hopsim run: rebuild it with: hopsim report {out}", file=sys.stderr)
        return 1
    print(f"report: {path}")
    return 0
