"""Write a trace as warehouse tables with DuckDB: an embedded database file or Parquet files.

The whole job is DuckDB SQL over its own JSON reader, so no message passes
through Python: the trace is bulk-loaded once with its top-level fields
typed and ``context``/``properties``/``traits`` kept as JSON; the columns
each table needs are read from ``json_group_structure`` per call type and
event name, every table's in one scan per payload; each context is parsed
once per distinct context (a device stamps the same one on every message
from one place) and joined back; each table is one ``CREATE TABLE AS``.
The rows are the ones ``sim.warehouse.reference.warehouse_rows`` defines
(equivalence test in tests/warehouse).

NOTE: SQL, not a Python loop: ~1/6 of the CPU of computing the reference rows alone (RESULTS.md).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson

from sim.errors import HopsimError
from sim.warehouse.naming import (
    CALL_TABLES,
    EXTRA_COLUMNS,
    STANDARD_COLUMNS,
    TABLE_OF_TYPE,
    column,
    event_table,
    snake,
)
from sim.warehouse.sources import first_line

FORMATS = ("duckdb", "parquet")

# The trace's top-level fields as the bulk load types them.
RAW_COLUMNS = {
    "messageId": "VARCHAR",
    "type": "VARCHAR",
    "anonymousId": "VARCHAR",
    "userId": "VARCHAR",
    "event": "VARCHAR",
    "name": "VARCHAR",
    "groupId": "VARCHAR",
    "previousId": "VARCHAR",
    "timestamp": "VARCHAR",
    "originalTimestamp": "VARCHAR",
    "sentAt": "VARCHAR",
    "receivedAt": "VARCHAR",
    "context": "JSON",
    "properties": "JSON",
    "traits": "JSON",
}
TRACK_EXTRA = ["r.event_slug AS event", "r.event AS event_text"]
# json_group_structure's leaf types -> column types (the warehouses' varchar, integer, float,
# boolean); anything else (arrays, keys of mixed types) is kept as JSON text.
SCALARS = {
    "VARCHAR": "VARCHAR",
    "BIGINT": "BIGINT",
    "UBIGINT": "BIGINT",
    "DOUBLE": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
}
TRUTH_COLUMNS = {
    "device_id": "VARCHAR",
    "device_type": "VARCHAR",
    "household_id": "VARCHAR",
    "person_id": "VARCHAR",
    "persona": "VARCHAR",
    "also_used_by": "VARCHAR[]",
    "anonymous_ids": "VARCHAR[]",
    "user_ids": "VARCHAR[]",
}


@dataclass
class Exported:
    """What an export wrote: rows per table, where, how long it took."""

    path: Path
    fmt: str
    messages: int
    tables: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    truth: Path | None = None

    @property
    def messages_per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Leaf:
    """One flattened column: its JSON path, column name and type."""

    path: tuple[str, ...]
    name: str
    kind: str  # a DuckDB scalar type, or JSON (arrays and mixed types: kept as text)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def leaves(structure: Any, prefix: tuple[str, ...] = ()) -> Iterator[Leaf]:
    """The columns a ``json_group_structure`` result flattens into; all-null keys give none."""
    if not isinstance(structure, dict):
        return
    for key, sub in structure.items():
        path = (*prefix, str(key))
        if isinstance(sub, dict):
            yield from leaves(sub, path)
        elif sub == "NULL":
            continue
        else:
            kind = SCALARS.get(sub, "JSON") if isinstance(sub, str) else "JSON"
            yield Leaf(path, column(path), kind)


def transform_spec(chosen: list[Leaf]) -> str:
    """The ``json_transform`` structure that parses exactly these leaves."""
    spec: dict[str, Any] = {}
    for leaf in chosen:
        node = spec
        for part in leaf.path[:-1]:
            node = node.setdefault(part, {})
        node[leaf.path[-1]] = leaf.kind
    return orjson.dumps(spec).decode()


def access(source: str, leaf: Leaf) -> str:
    expr = source + "".join(f".{quote(p)}" for p in leaf.path)
    return f"({expr} ->> '$')" if leaf.kind == "JSON" else expr


def pick(candidates: Iterator[Leaf], taken: set[str], reserved: frozenset[str]) -> list[Leaf]:
    """Leaves whose column is free: not reserved, not context, not already taken (first wins)."""
    out = []
    for leaf in candidates:
        if not leaf.name or leaf.name in reserved or leaf.name in taken:
            continue
        if leaf.name.startswith("context_"):
            continue
        taken.add(leaf.name)
        out.append(leaf)
    return out


def utc(expr: str) -> str:
    """An ISO-8601 text as UTC ``TIMESTAMP``; the common ``...sssZ`` form parsed the fast way."""
    return (
        f"coalesce(try_strptime({expr}, '%Y-%m-%dT%H:%M:%S.%gZ'), "
        f"CAST({expr} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"
    )


class Warehouse:
    """One export in progress on one DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, trace: Path) -> None:
        self.con = con
        self.trace = trace
        self.context_leaves: list[Leaf] = []
        self.uuid_ts = "NULL"
        self._structures: dict[str, list[tuple[Any, Any, Any]]] = {}

    def load(self) -> int:
        columns = (
            "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in RAW_COLUMNS.items()) + "}"
        )
        stamp = utc("timestamp")
        stamps = ", ".join(
            f"coalesce({utc(quote(k))}, {stamp}) AS {quote(k)}"
            for k in ("originalTimestamp", "sentAt", "receivedAt")
        )
        try:
            self.con.execute(
                f"CREATE TEMP TABLE raw AS SELECT * REPLACE ({stamp} AS timestamp, {stamps}) "
                f"FROM read_json({literal(str(self.trace))}, format='newline_delimited', "
                f"columns={columns})"
            )
        except duckdb.Error as exc:
            raise HopsimError(
                f"{self.trace}: not a JSON-lines trace DuckDB can read: {first_line(exc)}"
            ) from exc
        count = self._one("SELECT count(*) FROM raw")
        last = self._one("SELECT max(receivedAt) FROM raw")
        self.uuid_ts = f"TIMESTAMP {literal(str(last))}" if last is not None else "NULL"
        return int(count)

    def _one(self, sql: str) -> Any:
        row = self.con.execute(sql).fetchone()
        return row[0] if row else None

    def contexts(self) -> None:
        """Each distinct context parsed once into its ``context_*`` columns."""
        self.con.execute(
            "CREATE TEMP TABLE ctx_raw AS SELECT DISTINCT context FROM raw WHERE context IS NOT NULL"
        )
        structure = orjson.loads(
            self._one("SELECT json_group_structure(context) FROM ctx_raw") or "{}"
        )
        ordered = sorted(leaves(structure, ("context",)), key=lambda leaf: (leaf.name, leaf.path))
        first: dict[str, Leaf] = {}
        for leaf in ordered:  # two keys that snake_case alike: the first in order keeps the column
            first.setdefault(leaf.name, leaf)
        self.context_leaves = list(first.values())
        inner = [Leaf(leaf.path[1:], leaf.name, leaf.kind) for leaf in self.context_leaves]
        spec = literal(transform_spec(inner)) if inner else "'{}'"
        cols = "".join(f", {access('c', leaf)} AS {quote(leaf.name)}" for leaf in inner)
        self.con.execute(
            f"CREATE TEMP TABLE ctx AS SELECT context{cols} FROM "
            f"(SELECT context, json_transform(context, {spec}) AS c FROM ctx_raw)"
        )
        self.con.execute(
            "CREATE TEMP TABLE staged AS SELECT r.* EXCLUDE (context), x.* EXCLUDE (context) "
            "FROM raw r LEFT JOIN ctx x ON r.context = x.context"
        )
        self.con.execute("DROP TABLE raw")

    def _standard(self) -> list[str]:
        exprs = {
            "id": "r.messageId",
            "anonymous_id": "r.anonymousId",
            "user_id": "r.userId",
            "timestamp": "r.timestamp",
            "original_timestamp": "r.originalTimestamp",
            "sent_at": "r.sentAt",
            "received_at": "r.receivedAt",
            "uuid_ts": self.uuid_ts,
        }
        return [f"{exprs[name]} AS {quote(name)}" for name in STANDARD_COLUMNS]

    def structures(self, payload: str) -> list[tuple[Any, Any, Any]]:
        """``json_group_structure`` of a payload per ``(type, event)``, every table's in one scan."""
        if payload not in self._structures:
            rows = self.con.execute(
                f"SELECT type, event, json_group_structure({payload}) FROM staged "
                "GROUP BY ALL ORDER BY 1, 2"
            ).fetchall()
            self._structures[payload] = [(k, e, orjson.loads(s) if s else {}) for k, e, s in rows]
        return self._structures[payload]

    def table(
        self, name: str, where: str, extra: list[str], payload: str | None, structure: Any
    ) -> None:
        """One ``CREATE TABLE`` of standard, context, call and payload columns."""
        base = name if name in CALL_TABLES else "tracks"
        reserved = frozenset({*STANDARD_COLUMNS, *EXTRA_COLUMNS[base]})
        ordered = sorted(leaves(structure), key=lambda leaf: (leaf.name, leaf.path))
        chosen = pick(iter(ordered), set(), reserved) if payload else []
        select = [
            *self._standard(),
            *(f"r.{quote(leaf.name)}" for leaf in self.context_leaves),
            *extra,
            *(f"{access('p', leaf)} AS {quote(leaf.name)}" for leaf in chosen),
        ]
        parsed = (
            f", json_transform(r.{payload}, {literal(transform_spec(chosen))}) AS p"
            if chosen
            else ""
        )
        slugs = "LEFT JOIN slugs s ON r.event = s.event " if base == "tracks" else ""
        slug = ", s.slug AS event_slug" if base == "tracks" else ""
        self.con.execute(
            f"CREATE TABLE {quote(name)} AS SELECT {', '.join(select)} FROM "
            f"(SELECT r.*{slug}{parsed} FROM staged r {slugs}WHERE {where}) r"
        )

    def _slugs(self) -> dict[str, list[str]]:
        """Event name -> slug in a small table; event table -> the names that land in it."""
        events = [
            str(row[0])
            for row in self.con.execute(
                "SELECT DISTINCT event FROM staged WHERE type = 'track' AND event IS NOT NULL "
                "ORDER BY 1"
            ).fetchall()
        ]
        self.con.execute("CREATE TEMP TABLE slugs (event VARCHAR, slug VARCHAR)")
        if events:
            self.con.executemany("INSERT INTO slugs VALUES (?, ?)", [(e, snake(e)) for e in events])
        tables: dict[str, list[str]] = {}
        for event in events:
            if snake(event):
                tables.setdefault(event_table(event), []).append(event)
        return tables

    def build(self) -> list[str]:
        """Every table; returns their names in creation order."""
        calls: dict[str, tuple[str | None, list[str]]] = {
            "identifies": ("traits", []),
            "pages": ("properties", ["r.name AS name"]),
            "screens": ("properties", ["r.name AS name"]),
            "groups": ("traits", ["r.groupId AS group_id"]),
            "aliases": (None, ["r.previousId AS previous_id"]),
            "tracks": (None, TRACK_EXTRA),
        }
        kinds = {v: k for k, v in TABLE_OF_TYPE.items()}
        by_table = self._slugs()
        for name, (payload, extra) in calls.items():
            where = f"r.type = {literal(kinds[name])}"
            self.table(name, where, extra, payload, self._merged(payload, kinds[name]))
        made = list(calls)
        for name, events in by_table.items():
            names = ", ".join(literal(e) for e in events)
            where = f"r.type = 'track' AND r.event IN ({names})"
            merged = self._merged("properties", "track", set(events))
            self.table(name, where, TRACK_EXTRA, "properties", merged)
            made.append(name)
        self._users()
        made.append("users")
        return made

    def _merged(
        self, payload: str | None, kind: str, events: set[str] | None = None
    ) -> dict[str, Any]:
        """One structure for the rows of a table (event names landing in one table merged)."""
        merged: dict[str, Any] = {}
        if payload:
            for row_kind, event, part in self.structures(payload):
                if row_kind == kind and (events is None or event in events):
                    merged.update(part if isinstance(part, dict) else {})
        return merged

    def _users(self) -> None:
        """Latest non-null value of every trait per ``user_id`` (Segment's upsert)."""
        cols = [c for c in self._columns("identifies") if c not in STANDARD_COLUMNS]
        traits = [c for c in cols if not c.startswith("context_")]
        latest = "".join(
            f", arg_max({quote(c)}, (received_at, id)) FILTER (WHERE {quote(c)} IS NOT NULL) "
            f"AS {quote(c)}"
            for c in traits
        )
        self.con.execute(
            "CREATE TABLE users AS SELECT user_id AS id, max(received_at) AS received_at, "
            f"max(uuid_ts) AS uuid_ts{latest} FROM identifies WHERE user_id IS NOT NULL "
            "GROUP BY user_id ORDER BY id"
        )

    def _columns(self, table: str) -> list[str]:
        return [str(row[0]) for row in self.con.execute(f"DESCRIBE {quote(table)}").fetchall()]

    def counts(self, names: list[str]) -> dict[str, int]:
        return {n: int(self._one(f"SELECT count(*) FROM {quote(n)}")) for n in names}


def export_trace(
    trace: Path, to: Path, fmt: str = "duckdb", truth: Path | None = None, threads: int = 0
) -> Exported:
    """Write ``trace`` (``.jsonl`` or ``.jsonl.gz``) as warehouse tables at ``to``.

    ``duckdb``: one database file (replaced if it exists); ``parquet``: a
    folder with one ``<table>.parquet`` per table. With ``truth`` (the run's
    ``truth.jsonl.gz``) the ground truth is written beside the export, never
    in it: ``<to>.truth.duckdb`` or ``<to>.truth.parquet`` (see ``truth_path``).
    """
    if fmt not in FORMATS:
        raise HopsimError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if not trace.is_file():
        raise HopsimError(f"{trace}: no trace file here")
    started = time.perf_counter()
    database = _fresh(to, fmt)
    con = duckdb.connect(str(database) if database else ":memory:")
    try:
        con.execute(f"SET threads = {threads or min(os.cpu_count() or 1, 4)}")
        con.execute("SET preserve_insertion_order = false")  # rows carry their order in columns
        house = Warehouse(con, trace)
        messages = house.load()
        house.contexts()
        names = house.build()
        counts = house.counts(names)
        if fmt == "parquet":
            for name in names:
                target = literal(str(to / f"{name}.parquet"))
                con.execute(f"COPY {quote(name)} TO {target} (FORMAT parquet)")
    finally:
        con.close()
    result = Exported(to, fmt, messages, counts, time.perf_counter() - started)
    if truth is not None:
        result.truth = write_truth(truth, truth_path(to, fmt), fmt)
    return result


def _fresh(to: Path, fmt: str) -> Path | None:
    """Clear the target; the DuckDB file to write into (``None``: in memory, for Parquet)."""
    if fmt == "duckdb":
        if to.is_dir():
            raise HopsimError(f"--to {to}: is a folder; a DuckDB export is one file")
        to.parent.mkdir(parents=True, exist_ok=True)
        for stale in (to, to.with_name(to.name + ".wal")):
            stale.unlink(missing_ok=True)
        return to
    if to.is_file():
        raise HopsimError(f"--to {to}: is a file; a Parquet export is a folder")
    if to.is_dir():
        shutil.rmtree(to)
    to.mkdir(parents=True)
    return None


def truth_path(to: Path, fmt: str) -> Path:
    """Where ``--truth`` goes: beside the export, never inside it."""
    return to.with_name(f"{to.name.removesuffix('.duckdb')}.truth.{fmt}")


def write_truth(truth: Path, target: Path, fmt: str) -> Path:
    """The run's truth (device -> household, person, identifiers) as one table ``truth``."""
    if not truth.is_file():
        raise HopsimError(f"{truth}: no truth file here; --truth needs the run's truth.jsonl.gz")
    columns = "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in TRUTH_COLUMNS.items()) + "}"
    source = f"read_json({literal(str(truth))}, format='newline_delimited', columns={columns})"
    target.unlink(missing_ok=True)
    if fmt == "duckdb":
        con = duckdb.connect(str(target))
        try:
            con.execute(f"CREATE TABLE truth AS SELECT * FROM {source} ORDER BY device_id")
        finally:
            con.close()
    else:
        con = duckdb.connect()
        try:
            con.execute(
                f"COPY (SELECT * FROM {source} ORDER BY device_id) TO "
                f"{literal(str(target))} (FORMAT parquet)"
            )
        finally:
            con.close()
    return target
