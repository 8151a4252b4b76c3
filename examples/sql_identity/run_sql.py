"""Run a SQL file against a DuckDB database: ``python run_sql.py DB.duckdb MODEL.sql``.

A stand-in for the DuckDB command line (``duckdb DB.duckdb < MODEL.sql``),
using the duckdb package that hopsim already installs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb


def run_sql(database: Path, sql: Path) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute(sql.read_text(encoding="utf-8"))


if __name__ == "__main__":
    run_sql(Path(sys.argv[1]), Path(sys.argv[2]))
