"""The DuckDB export against the plain-Python definition of the warehouse rows."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sim.errors import HopsimError
from sim.trace.reader import read_jsonl
from sim.warehouse.export import export_trace, truth_path
from sim.warehouse.naming import event_table, snake
from sim.warehouse.reference import Row, users, warehouse_rows


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[Row]]:
    names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    out = {}
    for name in names:
        cursor = con.execute(f'SELECT * FROM "{name}"')
        columns = [d[0] for d in cursor.description]
        out[name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return out


def _key(row: Row) -> tuple[tuple[str, Any], ...]:
    """A row as its non-null cells, so a missing column equals a NULL one."""
    return tuple(sorted((k, v) for k, v in row.items() if v is not None))


def _reference(run: Path, uuid_ts: Any) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for message in read_jsonl(run / "trace.jsonl.gz"):
        for table, row in warehouse_rows(message, uuid_ts):
            out[table].append(row)
    out["users"] = users(out["identifies"])
    return out


def test_duckdb_tables_hold_exactly_the_reference_rows(small_run: Path, tmp_path: Path) -> None:
    to = tmp_path / "warehouse.duckdb"
    result = export_trace(small_run / "trace.jsonl.gz", to)
    with duckdb.connect(str(to), read_only=True) as con:
        got = _tables(con)
    uuid_ts = got["tracks"][0]["uuid_ts"]
    want = _reference(small_run, uuid_ts)
    assert uuid_ts == max(row["received_at"] for rows in want.values() for row in rows)
    assert {t for t, rows in want.items() if rows} <= set(got)
    for table, rows in got.items():
        assert sorted(map(_key, rows)) == sorted(map(_key, want.get(table, []))), table
    assert result.messages == sum(1 for _ in read_jsonl(small_run / "trace.jsonl.gz"))
    assert result.tables["tracks"] == len(want["tracks"]) > 0


def test_columns_follow_the_destinations_naming(small_run: Path, tmp_path: Path) -> None:
    to = tmp_path / "w.duckdb"
    export_trace(small_run / "trace.jsonl.gz", to)
    with duckdb.connect(str(to), read_only=True) as con:
        tracks = {r[0]: r[1] for r in con.execute("DESCRIBE tracks").fetchall()}
        viewed = {r[0] for r in con.execute("DESCRIBE product_viewed").fetchall()}
        events = {r[0] for r in con.execute("SELECT DISTINCT event FROM tracks").fetchall()}
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    for name in ("id", "anonymous_id", "user_id", "received_at", "sent_at", "timestamp", "uuid_ts"):
        assert name in tracks
    assert tracks["received_at"] == "TIMESTAMP"
    assert {"context_ip", "context_device_id", "context_os_name"} <= set(tracks)
    assert {"product_id", "price", "event", "event_text"} <= viewed
    assert events <= tables, "every track event has its own table, named by its slug"
    assert {"identifies", "tracks", "pages", "screens", "aliases", "groups", "users"} <= tables


def test_truth_goes_beside_the_export_never_into_it(small_run: Path, tmp_path: Path) -> None:
    to = tmp_path / "w.duckdb"
    result = export_trace(small_run / "trace.jsonl.gz", to, truth=small_run / "truth.jsonl.gz")
    assert result.truth == truth_path(to, "duckdb") == tmp_path / "w.truth.duckdb"
    with duckdb.connect(str(to), read_only=True) as con:
        columns = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns()").fetchall()}
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "truth" not in tables
    assert not columns & {"person_id", "household_id", "also_used_by", "persona"}
    truth_rows = list(read_jsonl(small_run / "truth.jsonl.gz"))
    with duckdb.connect(str(result.truth), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM truth").fetchone() == (len(truth_rows),)


def test_parquet_folder_has_one_file_per_table(small_run: Path, tmp_path: Path) -> None:
    to = tmp_path / "parquet"
    result = export_trace(
        small_run / "trace.jsonl.gz", to, "parquet", truth=small_run / "truth.jsonl.gz"
    )
    files = {p.stem for p in to.glob("*.parquet")}
    assert files == set(result.tables)
    assert result.truth == tmp_path / "parquet.truth.parquet" and result.truth.is_file()
    con = duckdb.connect()
    for table, count in result.tables.items():
        assert con.execute(f"SELECT count(*) FROM '{to / table}.parquet'").fetchone() == (count,)


def test_bad_targets_and_traces_are_named(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    trace.write_text("this is not json\n")
    with pytest.raises(HopsimError, match=r"trace\.jsonl"):
        export_trace(trace, tmp_path / "w.duckdb")
    with pytest.raises(HopsimError, match="--format"):
        export_trace(trace, tmp_path / "w.duckdb", "csv")
    with pytest.raises(HopsimError, match="no trace file"):
        export_trace(tmp_path / "missing.jsonl.gz", tmp_path / "w.duckdb")


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("sample text", "sample_text"),
        ("sampleText", "sample_text"),
        ("inviteYourCustomersAddInvites", "invite_your_customers_add_invites"),
        ("   $#$sample   2    Text   ", "sample_2_text"),
        ("SAMPLE 2 TEXT", "sample_2_text"),
        ("___$$Base64Encode", "base64_encode"),
        ("FOO:BAR$BAZ", "foo_bar_baz"),
        ("something.com", "something_com"),
        ("userAgent", "user_agent"),
        ("Product Viewed", "product_viewed"),
    ],
)
def test_snake_case_follows_the_go_snakecase_cases(name: str, want: str) -> None:
    assert snake(name) == want


def test_an_event_named_like_a_standard_table_gets_its_own_table() -> None:
    assert event_table("Tracks") == "_tracks"
    assert event_table("Order Completed") == "order_completed"
