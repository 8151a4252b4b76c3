"""The one JSON-lines reader and the one owner index over the truth file."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

from sim.trace.reader import (
    TraceReadError,
    iter_lines,
    read_events,
    read_jsonl,
    read_optional_jsonl,
)
from sim.trace.truth import TruthError, owners_of, owners_of_rows, truth_device
from sim.trace.writer import write_jsonl, write_jsonl_gz


def test_reads_back_what_the_writer_wrote_plain_and_gzip(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [{"a": 1}, {"b": [1, 2]}, {"c": "é"}]
    write_jsonl(tmp_path / "x.jsonl", rows)
    write_jsonl_gz(tmp_path / "x.jsonl.gz", rows)
    assert list(read_jsonl(tmp_path / "x.jsonl")) == rows
    assert list(read_jsonl(tmp_path / "x.jsonl.gz")) == rows


def test_an_optional_table_reads_as_empty_when_the_run_did_not_write_it(tmp_path: Path) -> None:
    assert list(read_optional_jsonl(tmp_path / "profiles.jsonl")) == []
    (tmp_path / "a-folder.jsonl").mkdir()
    assert list(read_optional_jsonl(tmp_path / "a-folder.jsonl")) == []
    write_jsonl(tmp_path / "profiles.jsonl", [{"profile_id": "p1"}])
    assert list(read_optional_jsonl(tmp_path / "profiles.jsonl")) == [{"profile_id": "p1"}]
    (tmp_path / "bad.jsonl").write_bytes(b"[1]\n")
    with pytest.raises(TraceReadError, match=r"bad\.jsonl: line 1"):
        list(read_optional_jsonl(tmp_path / "bad.jsonl"))


def test_a_bad_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"a": 1}\n\n[1, 2]\n')
    with pytest.raises(TraceReadError, match=r"t\.jsonl: line 3: expected a JSON object"):
        list(read_jsonl(path))
    path.write_bytes(b'{"a": 1}\n{"a": \n')
    with pytest.raises(TraceReadError, match=r"t\.jsonl: line 2: invalid JSON"):
        list(read_jsonl(path))


def test_a_file_that_is_not_gzip_says_it_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(b'{"a": 1}\n')
    with pytest.raises(TraceReadError, match=r"t\.jsonl\.gz: cannot read"):
        list(iter_lines(path))


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b'{"a": 1}\n\n{"a": 2}\n')
    assert [n for n, _ in iter_lines(path)] == [1, 3]


def test_a_trace_read_for_replay_or_scoring_is_checked_for_the_event_shape(tmp_path: Path) -> None:
    event = {"type": "track", "event": "Signed In", "timestamp": "2026-11-02T08:00:00.000Z"}
    path = tmp_path / "trace.jsonl.gz"
    write_jsonl_gz(path, [event, {"device_id": "d-1", "person_id": "p-1"}])
    events = read_events(path)
    assert next(events) == event
    with pytest.raises(TraceReadError, match=r"trace\.jsonl\.gz: line 2: expected a Segment event"):
        next(events)
    write_jsonl_gz(path, [{"type": "page", "timestamp": 1_700_000_000}])
    with pytest.raises(TraceReadError, match=r"line 1: expected a 'timestamp' string"):
        list(read_events(path))


TRUTH: list[dict[str, Any]] = [
    {"device_id": "d-phone", "device_type": "phone", "person_id": "p-1", "household_id": "h-1",
     "persona": "mason", "user_ids": ["u-1"]},
    {"device_id": "d-tv", "device_type": "tv", "person_id": None, "household_id": "h-1",
     "persona": "mason", "user_ids": ["u-1"]},
    {"device_id": "d-laptop", "device_type": "laptop", "person_id": "p-2", "household_id": "h-1",
     "persona": "susan", "user_ids": ["u-2"]},
]  # fmt: skip


def test_owners_know_persons_households_and_logins() -> None:
    index = owners_of_rows(TRUTH)
    assert index.owner("d-phone") == "p-1"
    assert index.owner("d-tv") == "household:h-1"
    assert index.owner("d-unknown") is None
    # a personal device speaks for its owner; a shared one only through its login
    assert index.person("d-phone", "u-2") == "p-1"
    assert index.person("d-tv", "u-2") == "p-2"
    assert index.person("d-tv", None) is None
    assert index.person(None, "u-1") == "p-1"


def test_an_owner_index_handed_over_is_the_index_its_lines_make() -> None:
    """A shard's finish indexes its truth once for every reader (``owners_of``)."""
    index = owners_of_rows(TRUTH)
    assert owners_of(index) is index
    assert owners_of(TRUTH) == index
    assert owners_of(iter(TRUTH)) == index


def test_a_truth_line_without_ids_is_refused() -> None:
    with pytest.raises(TruthError, match="device_id"):
        truth_device({"device_type": "phone"})
