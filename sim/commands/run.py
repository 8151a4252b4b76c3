"""``hopsim run SCENARIO.toml``: simulate a scenario into a run folder."""

from __future__ import annotations

import argparse
import os
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
        "--workers",
        type=int,
        help="shards, each in its own process (default 1; with --cluster, one per cluster"
        " worker, or per core for a local one); the same bytes for any count",
    )
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the shards as actors on the Dask cluster at ADDRESS (tcp://host:8786), or"
        " 'local' to start one on this machine; needs pip install 'hopsim[cluster]'",
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
    workers = args.workers or 1
    if args.workers is None and args.cluster == "local":
        workers = os.cpu_count() or 1
    elif args.workers is None and args.cluster is not None:
        workers = _cluster_size(args.cluster)
    run = Run(scenario, out, workers, args.cluster)
    summary = _execute(run, args.quiet)
    print(
        f"{summary['events']:,} events from {summary['persons']:,} people "
        f"on {summary['devices']:,} devices "
        f"in {summary['wall_seconds']:.1f} s ({summary['events_per_second']:,.0f} events/s)"
    )
    print(f"run folder: {out}")
    return 0 if args.no_report else _report(out)


def _cluster_size(address: str) -> int:
    """How many workers the Dask scheduler at ``address`` has (one shard each by default)."""
    from sim.runner.cluster import require_dask

    distributed = require_dask()
    with distributed.Client(address, timeout="30s") as client:
        return max(1, len(client.scheduler_info()["workers"]))


def _execute(run: Any, quiet: bool) -> dict[str, Any]:
    if quiet:
        summary: dict[str, Any] = run.execute()
        return summary
    import time

    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from sim.runner.resources import tree_rss

    days, persons = run.scenario.days, max(run.scenario.persons, len(run.scenario.people))
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=16),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("day {task.fields[day]}/" + str(days)),
        TextColumn("{task.fields[events]:>11,} events"),
        TextColumn("{task.fields[rate]:>7,.0f} person-days/s"),
        TextColumn("RSS {task.fields[rss]:.2f} GB"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    started = time.perf_counter()

    def fields(share: float, events: int) -> dict[str, Any]:
        elapsed = max(time.perf_counter() - started, 1e-9)
        day = min(days, int(share * days) + 1)
        rate = share * days * persons / elapsed
        return {"day": day, "events": events, "rate": rate, "rss": tree_rss() / 2**30}

    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(run.scenario.name, total=1.0, **fields(0.0, 0))
        summary = run.execute(
            lambda share, events: bar.update(task, completed=share, **fields(share, events))
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
