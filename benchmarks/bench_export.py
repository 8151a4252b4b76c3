"""``hopsim export`` against DuckDB's own bulk insert of the same rows, side by side.

The target row (issue 15: ratio >= 0.5) holds the export to DuckDB's bulk
insert of exactly the rows the export writes: every finished table
(``identifies``, ``tracks``, one per event name, ``users``, ...) copied by
``CREATE TABLE AS SELECT`` from the export's file, attached read-only, into
a fresh database file. Both rates are trace messages per second. The export
also reads and parses the JSON trace, flattens, splits and derives
``users``; the insert starts from rows already flat and typed. Rounds
alternate so both see the same machine; the best rounds are compared.
Shown beside it, as context without a target: DuckDB's JSON reader loading
the trace into one table with every field typed (schema from all rows,
``sample_size=-1``), and with only the top-level columns declared (the
export's first step alone, payloads left as JSON text).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks import Result
from sim.runner import Run
from sim.warehouse.export import RAW_COLUMNS, export_trace, literal
from sim.world.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
PERSONS = 2000
DAYS = 7
ROUNDS = 3


def bulk_load(trace: Path, database: Path, declared: bool = False) -> float:
    """Seconds for DuckDB to load the trace into one table of a fresh database file."""
    database.unlink(missing_ok=True)
    if declared:
        columns = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in RAW_COLUMNS.items())
        options = f"columns={{{columns}}}"
    else:
        options = "sample_size=-1"
    started = time.perf_counter()
    with duckdb.connect(str(database)) as con:
        con.execute(
            "CREATE TABLE events AS SELECT * FROM read_json("
            f"{literal(str(trace))}, format='newline_delimited', {options})"
        )
    return time.perf_counter() - started


def copy_rows(exported: Path, database: Path) -> float:
    """Seconds for DuckDB to bulk-insert the export's own rows (already flat) into a fresh file."""
    database.unlink(missing_ok=True)
    started = time.perf_counter()
    with duckdb.connect(str(database)) as con:
        con.execute(f"ATTACH {literal(str(exported))} AS src (READ_ONLY)")
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'"
        ).fetchall()
        for (name,) in tables:
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM src."{name}"')
    return time.perf_counter() - started


def run() -> list[Result]:
    scenario = load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(
        PERSONS, DAYS, 11
    )
    with tempfile.TemporaryDirectory(prefix="hopsim-bench-export-") as tmp:
        folder = Path(tmp)
        summary = Run(scenario, folder / "run").execute()
        trace = folder / "run" / "trace.jsonl.gz"
        events = int(summary["events"])
        export, bulk, declared, copied = [], [], [], []
        for _ in range(ROUNDS):
            export.append(export_trace(trace, folder / "export.duckdb").seconds)
            bulk.append(bulk_load(trace, folder / "bulk.duckdb"))
            declared.append(bulk_load(trace, folder / "declared.duckdb", declared=True))
            copied.append(copy_rows(folder / "export.duckdb", folder / "copy.duckdb"))
    export_rate, insert_rate = events / min(export), events / min(copied)
    note = f"{events:,} messages ({PERSONS} persons x {DAYS} days), best of {ROUNDS}"
    return [
        Result("export messages/s (DuckDB file)", export_rate, "msg/s", note=note),
        Result(
            "DuckDB bulk insert of the exported rows, messages/s",
            insert_rate,
            "msg/s",
            note="the same tables copied into a fresh file, no JSON",
        ),
        Result(
            "export / bulk insert of the same rows", export_rate / insert_rate, "ratio", target=0.5
        ),
        Result(
            "context: DuckDB JSON load, full schema, messages/s",
            events / min(bulk),
            "msg/s",
            note="one table, every field typed",
        ),
        Result(
            "context: DuckDB JSON load, declared columns, messages/s",
            events / min(declared),
            "msg/s",
            note="the export's own first step",
        ),
    ]
