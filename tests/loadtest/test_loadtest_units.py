"""The load test's pure parts: schedule, batching, percentiles, thresholds, shape."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from loadtest import checks, replay
from loadtest.measure import Recorder, percentile, percentiles, write_series
from loadtest.shape import ArrivalShape
from loadtest.synthetic import write_trace


def ev(at: float, device: str = "d1", size: int = 10) -> replay.TraceEvent:
    return replay.TraceEvent(at, device, b"x" * size)


# -- schedule and batching --------------------------------------------------------


def test_due_times_are_relative_to_the_trace_start_and_divided_by_speed(tmp_path: Path) -> None:
    trace = write_trace(tmp_path / "t.jsonl.gz", events=11, devices=1, span_seconds=100.0)
    events = replay.read_trace(trace)
    assert [e.at for e in events] == pytest.approx([10.0 * i for i in range(11)])
    plan = replay.build_plan(events, speed=10.0, size=1)
    assert [b.intended for b in plan.lanes[0]] == pytest.approx([float(i) for i in range(11)])


def test_batch_closes_at_size_on_the_due_time_of_its_last_event() -> None:
    plan = replay.build_plan([ev(i * 0.01) for i in range(250)], size=100, interval=10.0)
    batches = plan.lanes[0]
    assert [b.count for b in batches] == [100, 100, 50]
    assert batches[0].intended == pytest.approx(0.99)
    assert batches[1].intended == pytest.approx(1.99)
    assert batches[2].intended == pytest.approx(2.0 + 10.0)  # the timer flushes the rest


def test_batch_closes_when_the_interval_since_its_first_event_passes() -> None:
    plan = replay.build_plan([ev(t) for t in (0.0, 0.2, 0.4, 0.6, 1.3)], interval=0.5)
    batches = plan.lanes[0]
    assert [b.count for b in batches] == [3, 1, 1]
    assert [b.intended for b in batches] == pytest.approx([0.5, 1.1, 1.8])


def test_batch_closes_before_it_exceeds_max_bytes() -> None:
    plan = replay.build_plan([ev(i * 0.001, size=99) for i in range(10)], max_bytes=300)
    assert [b.count for b in plan.lanes[0]] == [3, 3, 3, 1]
    assert all(b.size_bytes <= 300 for b in plan.lanes[0])
    assert plan.lanes[0][0].intended == pytest.approx(0.003)  # sent when the 4th arrived


def test_device_scope_batches_each_device_alone_lane_scope_mixes_them() -> None:
    events = [ev(i * 0.01, f"d{i % 5}") for i in range(50)]
    by_device = replay.build_plan(events, lanes=1, scope="device")
    assert all(len({e.device for e in b.events}) == 1 for b in by_device.lanes[0])
    mixed = replay.build_plan(events, lanes=1, scope="lane")
    assert mixed.batches == 1 and mixed.lanes[0][0].count == 50


def test_every_event_planned_once_and_device_order_kept_per_lane(tmp_path: Path) -> None:
    rng = random.Random(7)
    events = sorted(
        (ev(rng.uniform(0, 100), f"d{rng.randrange(40)}") for _ in range(3000)),
        key=lambda e: e.at,
    )
    events = [replay.TraceEvent(e.at, e.device, f"{i}".encode()) for i, e in enumerate(events)]
    for scope in replay.SCOPES:
        plan = replay.build_plan(events, speed=7.0, lanes=6, size=20, interval=0.3, scope=scope)
        sent = [e for lane in plan.lanes for b in lane for e in b.events]
        assert sorted(int(e.raw) for e in sent) == list(range(3000))
        for lane in plan.lanes:
            assert [b.intended for b in lane] == sorted(b.intended for b in lane)
            seen: dict[str, int] = {}
            for batch in lane:
                assert batch.count <= 20
                for e in batch.events:
                    assert int(e.raw) > seen.get(e.device, -1)
                    seen[e.device] = int(e.raw)
                    assert e.at / 7.0 <= batch.intended + 1e-9  # never sent before it is due
        devices_per_lane = [{e.device for b in lane for e in b.events} for lane in plan.lanes]
        for i, a in enumerate(devices_per_lane):
            for b in devices_per_lane[i + 1 :]:
                assert not a & b  # a device lives on exactly one lane


def test_shards_partition_the_trace_by_device(tmp_path: Path) -> None:
    trace = write_trace(tmp_path / "t.jsonl.gz", events=500, devices=37, span_seconds=50.0)
    whole = replay.read_trace(trace)
    parts = [replay.read_trace(trace, shard, 3) for shard in range(3)]
    assert sum(len(p) for p in parts) == len(whole)
    devices = [{e.device for e in p} for p in parts]
    assert not (devices[0] & devices[1] or devices[1] & devices[2] or devices[0] & devices[2])
    assert parts[1][0].at == next(e.at for e in whole if e.device == parts[1][0].device)
    assert replay.shard_of("dev-00001", 3) == replay.device_hash("dev-00001") % 3


def test_body_reuses_the_raw_lines() -> None:
    batch = replay.Batch(0.0, [ev(0, size=0), ev(0, size=0)])
    batch.events = [replay.TraceEvent(0, "d", b'{"a":1}'), replay.TraceEvent(0, "d", b'{"b":2}')]
    assert batch.body() == b'{"batch":[{"a":1},{"b":2}]}'
    assert batch.body("k") == b'{"batch":[{"a":1},{"b":2}],"writeKey":"k"}'


def test_bad_traces_are_refused(tmp_path: Path) -> None:
    unsorted = tmp_path / "u.jsonl"
    unsorted.write_text(
        '{"timestamp": "2026-11-02T12:00:01Z"}\n{"timestamp": "2026-11-02T12:00:00Z"}\n'
    )
    with pytest.raises(replay.TraceError, match="backwards"):
        replay.read_trace(unsorted)
    broken = tmp_path / "b.jsonl"
    broken.write_text("not json\n")
    with pytest.raises(replay.TraceError, match=":1:"):
        replay.read_trace(broken)
    with pytest.raises(replay.TraceError):
        replay.read_trace(tmp_path / "missing.jsonl.gz")


# -- percentiles and the recorder -------------------------------------------------


def test_percentile_is_exact_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 99.5) == 100
    assert percentile([5.0], 99) == 5.0
    assert math.isnan(percentile([], 50))
    rng = random.Random(3)
    sample = [rng.expovariate(1.0) for _ in range(1001)]
    ordered = sorted(sample)
    for p in (50.0, 95.0, 99.0):
        value = percentiles(sample)[f"p{p:g}"]
        below = sum(1 for v in sample if v <= value)
        assert below >= p / 100 * len(sample)
        assert sum(1 for v in sample if v < value) < p / 100 * len(sample)
        assert value in ordered
    assert percentiles(sample)["max"] == max(sample)


def test_recorder_summary_separates_latency_from_schedule_and_lag() -> None:
    rec = Recorder(origin_wall=1000.0, origin_perf=0.0)
    rec.planned_events = 30
    rec.add(intended=0.0, start=0.0, end=0.010, events=10, ok=True)
    rec.add(intended=0.1, start=0.3, end=0.310, events=10, ok=True)  # generator 200 ms late
    rec.add(intended=0.2, start=0.311, end=0.320, events=10, ok=False, ready=0.310)  # lane busy
    s = rec.summary()
    assert s["requests"] == 3 and s["events"] == 20 and s["failures"] == 1
    assert s["latency_ms"]["max"] == pytest.approx(10.0)
    assert s["latency_from_schedule_ms"]["max"] == pytest.approx(210.0)
    assert s["schedule_lag_ms"]["p99"] == pytest.approx(200.0)
    assert s["schedule_lag_ms"]["p50"] == pytest.approx(1.0)
    assert s["lane_wait_ms"]["p99"] == pytest.approx(110.0)
    assert s["latency_from_schedule_ms"]["p50"] == pytest.approx(120.0)
    assert s["rps"] == pytest.approx(3 / 0.32)
    assert s["events_per_second"] == pytest.approx(20 / 0.32)


def test_recorder_ships_each_sample_once_and_merges_onto_one_clock(tmp_path: Path) -> None:
    worker = Recorder(origin_wall=1002.0, origin_perf=0.0)
    worker.planned_events = 5
    worker.add(0.0, 0.0, 0.5, 5, True)
    first = worker.take_unshipped()
    worker.add(1.0, 1.0, 1.5, 5, True)
    second = worker.take_unshipped()
    assert worker.take_unshipped()["end"] == b""
    master = Recorder(origin_wall=1000.0, origin_perf=0.0)
    for shipment in (first, second):
        master.extend(Recorder.from_shipment(shipment))
    assert list(master.end) == [2.5, 3.5]
    assert master.planned_events == 5 and len(master) == 2
    rows = master.series()
    assert [r["t_s"] for r in rows] == [1.0, 2.0]
    assert rows[0]["events_per_second"] == 5 and rows[1]["rps"] == 1
    write_series(tmp_path / "s.csv", rows)
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == "t_s,rps,events_per_second,p50_ms,p99_ms,lag_p99_ms"
    assert lines[1] == "1,1,5,500,500,0"


# -- thresholds -------------------------------------------------------------------


SUMMARY = {
    "requests": 100,
    "fail_ratio": 0.02,
    "events_per_second": 500.0,
    "latency_ms": {"p99": 20.0},
    "latency_from_schedule_ms": {"p99": 80.0},
}


def test_thresholds_pass_and_fail_both_ways() -> None:
    assert checks.exit_code(checks.evaluate(SUMMARY)) is None
    passing = checks.evaluate(SUMMARY, p99_ms=100, fail_ratio=0.05, eps=400)
    assert [c.ok for c in passing] == [True, True, True]
    assert checks.exit_code(passing) == 0
    assert checks.exit_code(checks.evaluate(SUMMARY, p99_ms=50)) == 1  # schedule p99 is 80
    assert checks.exit_code(checks.evaluate(SUMMARY, p99_ms=50, latency="send")) == 0
    assert checks.exit_code(checks.evaluate(SUMMARY, fail_ratio=0.01)) == 1
    assert checks.exit_code(checks.evaluate(SUMMARY, eps=600)) == 1
    empty = checks.evaluate({"requests": 0}, eps=0, fail_ratio=1.0, p99_ms=1e9)
    assert checks.exit_code(empty) == 1
    assert passing[0].as_dict() == {"name": "p99_ms", "value": 80.0, "target": 100, "ok": True}


# -- shape ------------------------------------------------------------------------


def test_shape_follows_the_arrival_rate_and_ends_with_the_trace() -> None:
    events = [ev(t * 0.1) for t in range(100)] + [ev(10 + t * 0.01) for t in range(500)]
    rate = replay.arrival_rate(events, speed=1.0)
    assert sum(rate) == 600 and rate[0] == 10 and rate[12] == 100
    shape = ArrivalShape(rate, events_per_user_second=10.0, smoothing_bins=1)
    assert shape.tick(0.5) == (1, 1.0)
    assert shape.tick(12.5) == (10, 10.0)
    assert shape.tick(100.0) is None


HEARTBEAT_PROBE = """
import time
from loadtest.locustfile import let_others_run  # imports locust, which patches for gevent
import gevent

beats = []

def heartbeat():
    while True:
        beats.append(time.monotonic())
        gevent.sleep(0.5)

ticker = gevent.spawn(heartbeat)
gevent.sleep(0)
began = time.monotonic()
while time.monotonic() - began < 2.0:  # busy 50 ms at a time, like 10,000 trace lines
    chunk = time.monotonic()
    while time.monotonic() - chunk < 0.05:
        pass
    let_others_run()
print(len([b for b in beats if b > began]))
"""


def test_a_worker_loading_a_trace_lets_its_heartbeat_timer_fire() -> None:
    """Locust's heartbeat is a timer; a worker busy loading a trace must not starve it.

    In a subprocess: importing Locust patches the standard library for gevent.
    """
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", HEARTBEAT_PROBE],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert int(done.stdout.split()[-1]) >= 2  # a 0.5 s timer over 2 s: 3-4 (0 if starved)
