"""Shard parts merge into the trace's one order without decoding events."""

from __future__ import annotations

import random
from pathlib import Path

import orjson

from sim.trace.parts import PartWriter, merge_parts
from sim.trace.reader import read_jsonl
from sim.trace.sink import TraceSink
from sim.trace.writer import JsonlGzWriter, dumps


def event(stamp: str, message_id: str, **extra: object) -> dict[str, object]:
    return {"type": "track", "timestamp": stamp, "messageId": message_id, **extra}


def order(item: dict[str, object]) -> tuple[str, str]:
    return str(item["timestamp"]), str(item["messageId"])


def write_part(path: Path, events: list[dict[str, object]]) -> Path:
    sink = TraceSink(path, part=True)
    sink.on_events(events)
    sink.close()
    return path


def test_merge_follows_timestamp_then_message_id(tmp_path: Path) -> None:
    rng = random.Random(3)
    stamps = [f"2026-11-02T07:{m:02d}:00.000Z" for m in range(20)]
    everything = [
        event(rng.choice(stamps), f"d{k % 7}-{k:06d}", properties={"text": "tab\there"})
        for k in range(300)
    ]
    shares: list[list[dict[str, object]]] = [[], [], []]
    for k, item in enumerate(everything):
        shares[k % 3].append(item)
    parts = [
        write_part(tmp_path / f"p{k}.part", sorted(share, key=order))
        for k, share in enumerate(shares)
    ]
    merged = list(merge_parts(parts))
    expected = sorted(everything, key=order)
    assert merged == [dumps(e) + b"\n" for e in expected]
    assert orjson.loads(merged[0])["properties"] == {"text": "tab\there"}


def test_one_shard_writes_a_readable_trace(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl.gz"
    sink = TraceSink(path)
    sink.on_events([event("2026-11-02T07:00:00.000Z", "a")])
    sink.on_events([event("2026-11-02T07:00:00.000Z", "b"), event("2026-11-02T07:01:00.000Z", "a")])
    assert sink.close() == 3
    assert [e["messageId"] for e in read_jsonl(path)] == ["a", "b", "a"]


def test_part_writer_counts_lines(tmp_path: Path) -> None:
    writer = PartWriter(tmp_path / "x.part")
    writer.write(event("2026-11-02T07:00:00.000Z", "a"))
    writer.close()
    assert writer.count == 1
    assert (tmp_path / "x.part").read_bytes().startswith(b"2026-11-02T07:00:00.000Z\ta\t{")


def test_threads_do_not_change_the_bytes(tmp_path: Path) -> None:
    lines = [
        dumps(event(f"2026-11-02T07:00:{k % 60:02d}.000Z", f"m{k:07d}", pad="x" * 300))
        for k in range(12_000)
    ]
    for threads in (1, 2):
        with JsonlGzWriter(tmp_path / f"t{threads}.gz", threads=threads) as writer:
            for line in lines:
                writer.write_line(line + b"\n")
    assert (tmp_path / "t1.gz").read_bytes() == (tmp_path / "t2.gz").read_bytes()
    assert sum(1 for _ in read_jsonl(tmp_path / "t2.gz")) == 12_000
