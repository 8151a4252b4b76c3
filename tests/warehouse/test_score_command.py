"""``hopsim score``: the run's own scorer applied to identity outputs of every shape."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sim.cli import main
from sim.trace.reader import read_jsonl
from sim.trace.writer import write_jsonl


def _score(run: Path, source: str | Path, *extra: str) -> dict[str, Any]:
    out = run.parent / f"score-{abs(hash((str(source), extra)))}.json"
    assert main(["score", str(run), "--profiles", str(source), "--out", str(out), *extra]) == 0
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _truth(run: Path) -> list[dict[str, Any]]:
    return list(read_jsonl(run / "truth.jsonl.gz"))


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _perfect_rows(run: Path) -> list[list[str]]:
    """(identifier_type, identifier, profile_id): each owned device on its owner."""
    rows = []
    for t in _truth(run):
        owner = t["person_id"] or f"shared-{t['device_id']}"
        rows += [["anonymousId", a, owner] for a in t["anonymous_ids"]]
    return rows


def test_own_profiles_score_exactly_as_the_run_did(small_run: Path) -> None:
    result = _score(small_run, small_run / "profiles.jsonl")
    summary = json.loads((small_run / "summary.json").read_text())
    own = {k: v for k, v in summary["stitching"].items() if k != "engine"}
    assert result["stitching"] == own
    assert result["coverage"]["devices_unmentioned"] == 0
    assert result["shape"] == "hopsim profiles.jsonl"


def test_identifier_rows_edges_and_vendor_shapes_agree(small_run: Path, tmp_path: Path) -> None:
    rows = _perfect_rows(small_run)
    plain = _score(
        small_run,
        _write_csv(tmp_path / "ids.csv", ["identifier_type", "identifier", "profile_id"], rows),
    )
    assert plain["stitching"]["household_level"]["pairwise_precision"] == 1.0
    assert plain["stitching"]["person_level"]["pairwise_precision"] == 1.0
    assert plain["stitching"]["household_level"]["over_merges"] == 0
    rudder = [[r[2], r[1], "anonymous_id"] for r in rows]  # snake_case types, as RudderStack writes
    via_rudder = _score(
        small_run,
        _write_csv(tmp_path / "rs.csv", ["user_main_id", "other_id", "other_id_type"], rudder),
    )
    assert via_rudder["stitching"] == plain["stitching"]
    segment = tmp_path / "segment.duckdb"
    with duckdb.connect(str(segment)) as con:
        con.execute(
            "CREATE TABLE external_id_mapping "
            "(segment_id VARCHAR, external_id_type VARCHAR, external_id_value VARCHAR)"
        )
        con.executemany(
            "INSERT INTO external_id_mapping VALUES (?, ?, ?)", [[r[0], r[2], r[1]] for r in rudder]
        )
    via_segment = _score(small_run, f"{segment}:external_id_mapping")
    assert via_segment["stitching"] == plain["stitching"]
    edges: list[list[str]] = []
    by_owner: dict[str, list[str]] = {}
    for _kind, value, owner in rows:
        by_owner.setdefault(owner, []).append(value)
    for values in by_owner.values():
        edges += [[values[0], "anonymousId", v, "anonymousId"] for v in values]
    via_edges = _score(
        small_run, _write_csv(tmp_path / "edges.csv", ["id1", "id1_type", "id2", "id2_type"], edges)
    )
    named = {**plain["stitching"], "largest_profile": via_edges["stitching"]["largest_profile"]}
    assert via_edges["stitching"] == named, "components are named by a member, not the owner"
    mapped = _score(
        small_run,
        _write_csv(tmp_path / "mine.csv", ["who", "kind", "value"], [[r[2], r[0], r[1]] for r in rows]),
        "--type-column", "kind", "--id-column", "value", "--profile-column", "who",
    )  # fmt: skip
    assert mapped["stitching"] == plain["stitching"]


def test_unknown_identifiers_and_unmentioned_devices_are_counted(
    small_run: Path, tmp_path: Path
) -> None:
    rows = _perfect_rows(small_run)
    sent = {e["anonymousId"] for e in read_jsonl(small_run / "trace.jsonl.gz")}
    dropped = rows.pop(max(i for i, row in enumerate(rows) if row[1] in sent))  # never mentioned
    rows.append(["userId", "u-nobody-knows", "p-x"])
    rows.append(["email", "stranger@example.org", "p-x"])
    result = _score(
        small_run,
        _write_csv(tmp_path / "ids.csv", ["identifier_type", "identifier", "profile_id"], rows),
    )
    cover = result["coverage"]
    assert cover["unknown_identifiers_by_type"] == {"email": 1, "userId": 1}
    assert cover["unknown_identifiers"] == 2
    seen = {json.dumps(t["anonymous_ids"]) for t in _truth(small_run)}
    assert json.dumps([dropped[1]]) in seen
    assert cover["devices_unmentioned"] >= 1


def test_person_identifiers_place_the_devices_they_were_seen_on(
    small_run: Path, tmp_path: Path
) -> None:
    """userId and e-mail rows alone still place every device the user signed in on."""
    identifies = [m for m in read_jsonl(small_run / "trace.jsonl.gz") if m["type"] == "identify"]
    rows = [["email", m["traits"]["email"].upper(), m["userId"]] for m in identifies]
    rows += [["userId", m["userId"], m["userId"]] for m in identifies]
    result = _score(
        small_run,
        _write_csv(tmp_path / "ids.csv", ["identifier_type", "identifier", "profile_id"], rows),
    )
    assert result["coverage"]["unknown_identifiers"] == 0
    assert result["stitching"]["household_level"]["over_merges"] == 0


def test_report_writes_a_stitching_page(small_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    assert main(["score", str(run), "--profiles", str(run / "profiles.jsonl"), "--report"]) == 0
    page = (run / "score.html").read_text()
    assert "Identity stitching of" in page and "data:image/png;base64" in page
    assert (run / "score.json").is_file()


def _error(run: Path, source: str | Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    code = main(
        ["score", str(run), "--profiles", str(source), "--out", str(run.parent / "x.json"), *extra]
    )
    assert code == 2
    return capsys.readouterr().err


def test_bad_sources_fail_naming_file_row_column_and_expectation(
    small_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = ["identifier_type", "identifier", "profile_id"]
    missing = _write_csv(tmp_path / "missing.csv", ["identifier", "profile_id"], [["a", "p"]])
    err = _error(small_run, missing, capsys)
    assert "missing.csv" in err and "missing columns" in err and "identifier_type" in err

    unknown = _write_csv(
        tmp_path / "unknown.csv", header, [["anonymousId", "a", "p"], ["phone", "1", "p"]]
    )
    err = _error(small_run, unknown, capsys)
    assert "unknown.csv: line 3" in err and "'phone'" in err and "anonymousId" in err

    empty = _write_csv(tmp_path / "empty.csv", header, [["userId", "u-1", ""]])
    err = _error(small_run, empty, capsys)
    assert "empty.csv: line 2" in err and "'profile_id'" in err and "empty" in err

    fake = tmp_path / "fake.parquet"
    fake.write_text("identifier_type,identifier,profile_id\n")
    err = _error(small_run, fake, capsys)
    assert "fake.parquet" in err and "not a Parquet file" in err

    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    err = _error(small_run, binary, capsys)
    assert "binary.csv" in err and "not a" in err and "CSV" in err

    not_db = tmp_path / "not.duckdb"
    not_db.write_text("hello")
    err = _error(small_run, f"{not_db}:ids", capsys)
    assert "not.duckdb" in err and "not a DuckDB database" in err

    lines = tmp_path / "bad.jsonl"
    lines.write_text('{"identifier_type": "userId", "identifier": "u", "profile_id": "p"}\nnope\n')
    err = _error(small_run, lines, capsys)
    assert "bad.jsonl: line 2" in err and "JSON" in err

    err = _error(small_run, missing, capsys, "--type-column", "kind")
    assert "--type-column" in err and "kind" in err


def test_a_run_folder_without_truth_says_so(
    small_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "no-truth"
    run.mkdir()
    shutil.copy(small_run / "trace.jsonl.gz", run)
    profiles = tmp_path / "p.jsonl"
    write_jsonl(profiles, read_jsonl(small_run / "profiles.jsonl"))
    err = _error(run, profiles, capsys)
    assert "no-truth" in err and "truth.jsonl.gz" in err


def test_parquet_and_jsonl_sources_read_like_csv(small_run: Path, tmp_path: Path) -> None:
    header = ["identifier_type", "identifier", "profile_id"]
    rows = _perfect_rows(small_run)
    from_csv = _score(small_run, _write_csv(tmp_path / "ids.csv", header, rows))
    parquet = tmp_path / "ids.parquet"
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE ids (identifier_type VARCHAR, identifier VARCHAR, profile_id VARCHAR)"
        )
        con.executemany("INSERT INTO ids VALUES (?, ?, ?)", rows)
        con.execute(f"COPY ids TO '{parquet}' (FORMAT parquet)")
    lines = tmp_path / "ids.jsonl"
    write_jsonl(lines, (dict(zip(header, row, strict=True)) for row in rows))
    for source in (parquet, lines):
        assert _score(small_run, source)["stitching"] == from_csv["stitching"], source
