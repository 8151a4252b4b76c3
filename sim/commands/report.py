"""``hopsim report RUN_DIR``: rebuild report.html from a run folder's files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="build report.html from a run folder",
        description="Rebuild the self-contained report.html of a run folder "
        "(summary.json, trace, truth, profiles, messages, compare.json, loadtest.json).",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a folder under reports/")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.report import build_report

    print(build_report(args.run_dir))
    return 0
