"""``hopsim export RUN_DIR --to PATH``: the trace as warehouse tables (docs/export.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a run's trace as Segment/RudderStack warehouse tables (DuckDB or Parquet)",
        description="Write RUN_DIR/trace.jsonl.gz as the tables a Segment or RudderStack "
        "warehouse destination creates (identifies, tracks, pages, screens, aliases, groups, "
        "users, one table per track event) into a DuckDB file or a folder of Parquet files. "
        "The truth is never in the export; --truth writes it beside it.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a run folder")
    parser.add_argument(
        "--to",
        type=Path,
        required=True,
        metavar="PATH",
        help="DuckDB file, or folder for --format parquet",
    )
    parser.add_argument("--format", choices=("duckdb", "parquet"), default="duckdb")
    parser.add_argument(
        "--truth",
        action="store_true",
        help="also write the ground truth beside the export (PATH.truth.duckdb/.parquet), "
        "for the scorer only",
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.errors import HopsimError
    from sim.warehouse.export import export_trace

    run_dir: Path = args.run_dir
    if not run_dir.is_dir():
        raise HopsimError(f"{run_dir}: no run folder here")
    truth = run_dir / "truth.jsonl.gz" if args.truth else None
    result = export_trace(run_dir / "trace.jsonl.gz", args.to, args.format, truth)
    print(
        f"{result.messages:,} messages -> {len(result.tables)} tables in {result.seconds:.1f} s "
        f"({result.messages_per_second:,.0f} messages/s): {result.path}"
    )
    for name, count in result.tables.items():
        print(f"  {name:<32} {count:>12,} rows")
    if result.truth is not None:
        print(f"truth (for the scorer only): {result.truth}")
    return 0
