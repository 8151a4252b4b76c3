"""examples/sql_identity end to end: run -> export -> plain SQL identity model -> score."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import duckdb

from sim.cli import main
from sim.trace.reader import read_jsonl

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sql_identity"


def _run_sql(database: Path, sql: Path) -> None:
    spec = importlib.util.spec_from_file_location("run_sql", EXAMPLE / "run_sql.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.run_sql(database, sql)


def test_the_sql_model_runs_and_scores_end_to_end(small_run: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    assert main(["export", str(small_run), "--to", str(warehouse)]) == 0
    _run_sql(warehouse, EXAMPLE / "identity.sql")
    out = tmp_path / "score.json"
    source = f"{warehouse}:identity_map"
    assert main(["score", str(small_run), "--profiles", source, "--out", str(out)]) == 0
    result = json.loads(out.read_text())

    trace = list(read_jsonl(small_run / "trace.jsonl.gz"))
    identified = {m["anonymousId"] for m in trace if m["type"] == "identify" and m.get("userId")}
    anonymous = {m["anonymousId"] for m in trace} - identified
    users = {m["userId"] for m in trace if m["type"] == "identify" and m.get("userId")}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        profiles = con.execute("SELECT count(DISTINCT profile_id) FROM identity_map").fetchone()
    assert profiles == (len(users) + len(anonymous),), "one profile per user, one per stranger"

    cover = result["coverage"]
    assert cover["unknown_identifiers"] == 0
    assert cover["devices_unmentioned"] == 0, "every device's anonymous id is in the map"
    stitching = result["stitching"]
    assert stitching["devices_scored"] == cover["devices_in_trace"]
    household = stitching["household_level"]
    assert 0 < household["correct_pairs"] <= household["predicted_pairs"]
