"""``hopsim score RUN_DIR --profiles SOURCE``: score any identity output against the truth."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score an external identity graph against a run's truth",
        description="Score SOURCE (CSV, JSONL, Parquet or FILE.duckdb:TABLE of "
        "(identifier_type, identifier, profile_id) rows, RudderStack ID-stitcher or Segment "
        "Profiles Sync shapes, an edge list (id1, id1_type, id2, id2_type), or hopsim's "
        "profiles.jsonl) with the scorer of the run's own `stitching` block. Writes score.json.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a run folder with truth")
    parser.add_argument("--profiles", required=True, metavar="SOURCE", help="the identity output")
    parser.add_argument("--type-column", help="column holding the identifier type")
    parser.add_argument("--id-column", help="column holding the identifier")
    parser.add_argument("--profile-column", help="column holding the profile id")
    parser.add_argument(
        "--out", type=Path, help="where to write score.json (default RUN_DIR/score.json)"
    )
    parser.add_argument(
        "--report", action="store_true", help="also write RUN_DIR/score.html (stitching section)"
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    import json

    from sim.analysis.external import Columns, score_source
    from sim.errors import HopsimError
    from sim.report.score_page import score_lines, write_score_page
    from sim.warehouse.sources import read_source

    run_dir: Path = args.run_dir
    if not run_dir.is_dir():
        raise HopsimError(f"{run_dir}: no run folder here")
    table = read_source(args.profiles)
    columns = Columns(args.type_column, args.id_column, args.profile_column)
    result = score_source(run_dir, table, columns)
    out: Path = args.out or run_dir / "score.json"
    out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print("\n".join(score_lines(result)))
    print(f"score: {out}")
    if args.report:
        print(f"report: {write_score_page(run_dir, result)}")
    return 0
