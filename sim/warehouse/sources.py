"""Reading someone else's identity output: CSV, JSON lines, Parquet or a DuckDB table.

An identity graph leaves the warehouse as a table. RudderStack's ID stitcher
writes ``(user_main_id, other_id, other_id_type)``, Segment's Profiles Sync
``external_id_mapping`` writes ``(segment_id, external_id_type,
external_id_value)``; a home-made model often writes an edge list
``(id1, id1_type, id2, id2_type)``. This module only reads such a table into
rows of text, each with a place (file and row) that an error can name; which
columns mean what is the scorer's business (``sim.analysis.external``).

``SOURCE`` is a path ending in ``.csv``, ``.jsonl``/``.jsonl.gz``/``.json``
or ``.parquet``, or ``FILE.duckdb:TABLE``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from sim.errors import HopsimError
from sim.trace.reader import read_jsonl

EXTENSIONS = ".csv, .jsonl, .jsonl.gz, .parquet or FILE.duckdb:TABLE"


@dataclass(frozen=True)
class Table:
    """A source's rows as ``{column: text or None}``, with where each one came from."""

    name: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    first_row: int  # the row number of rows[0] as a person opening the file would count it
    unit: str  # "line" for text files, "row" for Parquet and DuckDB

    def where(self, index: int) -> str:
        return f"{self.name}: {self.unit} {self.first_row + index}"

    def numbered(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for index, row in enumerate(self.rows):
            yield self.where(index), row


def read_source(source: str) -> Table:
    """Read ``source`` whole; a file that is not what its name says fails, naming it."""
    path_text, _, table = source.rpartition(":") if ".duckdb:" in source else (source, "", "")
    path = Path(path_text)
    if not path.is_file():
        raise HopsimError(f"--profiles {path}: no such file (expected {EXTENSIONS})")
    name = path.name.lower()
    if name.endswith(".duckdb"):
        return _duckdb(path, table)
    if name.endswith(".csv"):
        return _csv(path)
    if name.endswith((".jsonl", ".jsonl.gz", ".json", ".ndjson")):
        return _jsonl(path)
    if name.endswith(".parquet"):
        return _parquet(path)
    raise HopsimError(f"--profiles {path}: unknown kind of file; expected {EXTENSIONS}")


def _csv(path: Path) -> Table:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HopsimError(f"{path}: not a UTF-8 CSV file (byte {exc.start}): {exc.reason}") from exc
    if "\x00" in text:
        raise HopsimError(f"{path}: not a CSV file (it holds NUL bytes: binary data?)")
    reader = csv.DictReader(io.StringIO(text))
    columns = tuple(c.strip() for c in reader.fieldnames or ())
    if not columns:
        raise HopsimError(f"{path}: empty CSV file; expected a header line")
    rows = []
    for row in reader:
        rows.append({k.strip(): _text(v) for k, v in row.items() if isinstance(k, str)})
    return Table(str(path), columns, rows, 2, "line")


def _jsonl(path: Path) -> Table:
    rows = []
    columns: dict[str, None] = {}
    try:
        for row in read_jsonl(path):
            columns.update(dict.fromkeys(row))
            rows.append({k: _text(v) for k, v in row.items()})
    except (OSError, UnicodeDecodeError) as exc:
        raise HopsimError(f"{path}: not a JSON-lines file: {exc}") from exc
    return Table(str(path), tuple(columns), rows, 1, "line")


def _parquet(path: Path) -> Table:
    con = duckdb.connect()
    try:
        cursor = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
        return _fetch(cursor, str(path))
    except duckdb.Error as exc:
        raise HopsimError(f"{path}: not a Parquet file DuckDB can read: {first_line(exc)}") from exc
    finally:
        con.close()


def _duckdb(path: Path, table: str) -> Table:
    if not table:
        raise HopsimError(f"--profiles {path}: name the table, as {path}:TABLE")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise HopsimError(f"{path}: not a DuckDB database: {first_line(exc)}") from exc
    try:
        tables = [
            str(r[0]) for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        ]
        views = [str(r[0]) for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()]
        if table not in tables and table not in views:
            known = ", ".join(sorted([*tables, *views])) or "none"
            raise HopsimError(f"{path}: no table {table!r} (tables: {known})")
        cursor = con.execute(f'SELECT * FROM "{table.replace(chr(34), chr(34) * 2)}"')
        return _fetch(cursor, f"{path}:{table}")
    finally:
        con.close()


def _fetch(cursor: duckdb.DuckDBPyConnection, name: str) -> Table:
    columns = tuple(str(d[0]) for d in cursor.description or ())
    rows = [dict(zip(columns, map(_text, row), strict=True)) for row in cursor.fetchall()]
    return Table(name, columns, rows, 1, "row")


def first_line(exc: BaseException) -> str:
    """A DuckDB error's first line (the rest repeats the SQL hopsim wrote, not the user)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _text(value: Any) -> Any:
    """Cells as text (lists, as in hopsim's profiles.jsonl, stay lists); blank text is None."""
    if value is None or isinstance(value, list | dict):
        return value
    text = str(value).strip()
    return text or None
