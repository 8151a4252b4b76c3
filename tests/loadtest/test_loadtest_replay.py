"""Real replays, bounded to seconds: Locust against `hopsim serve` on a free loopback port."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import pytest

from loadtest.synthetic import write_trace

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "loadtest" / "locustfile.py"
EVENTS = 600
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`hopsim serve` on a free 127.0.0.1 port with its own data directory."""
    port, data = free_port(), tmp_path / "data"
    command = [sys.executable, "-m", "sim.cli", "serve", "--port", str(port), "--data", str(data)]
    process = subprocess.Popen(command, cwd=ROOT, env=env(), stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert process.poll() is None, "hopsim serve exited"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("hopsim serve did not start")
        yield url, data
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    # 600 events, 30 devices, one simulated minute: two seconds at speed 30
    return write_trace(tmp_path / "trace.jsonl.gz", events=EVENTS, devices=30, span_seconds=60.0)


def locust(host: str, trace: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    command += ["--host", host, "--trace", str(trace), "--replay-out", str(out), "-t", "60s"]
    command += ["--speed", "30", "--lanes", "8", "--only-summary", *extra]
    return subprocess.run(
        command, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=120, check=False
    )


def summary(out: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((out / "loadtest.json").read_text())
    return doc


def stored_events(data: Path) -> list[dict[str, Any]]:
    """The server's log, frame by frame, in the order it accepted them."""
    raw = (data / "events.log").read_bytes()
    events: list[dict[str, Any]] = []
    offset = 0
    while offset < len(raw):
        length, _crc = struct.unpack_from(">II", raw, offset)
        events += orjson.loads(raw[offset + 8 : offset + 8 + length])
        offset += 8 + length
    return events


def assert_device_order(events: list[dict[str, Any]]) -> None:
    last: dict[str, int] = {}
    for event in events:
        device, seq = event["context"]["device"]["id"], event["properties"]["seq"]
        assert seq > last.get(device, -1), f"{device}: event {seq} after {last[device]}"
        last[device] = seq


def test_replay_accepts_every_event_once_in_device_order(
    server: tuple[str, Path], trace: Path, tmp_path: Path
) -> None:
    url, data = server
    done = locust(url, trace, tmp_path / "out", "--write-key", "wk")
    assert done.returncode == 0, done.stderr[-3000:]
    stats = httpx.get(f"{url}/v1/stats").json()
    assert stats["events_accepted"] == EVENTS
    assert stats["events_duplicate"] == 0 and stats["events_rejected"] == 0
    result = summary(tmp_path / "out")
    assert result["events"] == result["planned_events"] == EVENTS
    assert result["failures"] == 0 and result["requests"] == result["planned_batches"]
    # Two seconds of trace at speed 30: the replay keeps the schedule, so it cannot be faster.
    # (How late it may be is a benchmark question, not a test's: machines here are shared.)
    assert result["duration_s"] > 1.5
    # Each request's delay from its schedule is the generator's lag, the lane's wait and the
    # server's latency, one after the other: the lag can be neither hidden nor double counted.
    lag, wait = result["schedule_lag_ms"], result["lane_wait_ms"]
    latency, scheduled = result["latency_ms"], result["latency_from_schedule_ms"]
    assert lag["p50"] <= lag["p99"] <= lag["max"] <= scheduled["max"] + 0.002
    assert scheduled["max"] <= latency["max"] + lag["max"] + wait["max"] + 0.005
    stored = stored_events(data)
    assert sorted(e["messageId"] for e in stored) == [f"m-{i:08d}" for i in range(EVENTS)]
    assert_device_order(stored)
    rows = (tmp_path / "out" / "loadtest_timeseries.csv").read_text().splitlines()
    assert rows[0] == "t_s,rps,events_per_second,p50_ms,p99_ms,lag_p99_ms" and len(rows) >= 3
    lag_per_second = [float(cells[5]) for row in rows[1:] if (cells := row.split(","))[5]]
    assert lag_per_second and max(lag_per_second) <= lag["max"] + 0.002


def test_thresholds_flip_the_exit_code_both_ways(
    server: tuple[str, Path], trace: Path, tmp_path: Path
) -> None:
    url, _ = server
    fast = ["--speed", "600"]
    ok = locust(url, trace, tmp_path / "a", *fast, "--check-p99-ms", "60000",
                "--check-fail-ratio", "0", "--check-eps", "1")  # fmt: skip
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert [c["ok"] for c in summary(tmp_path / "a")["checks"]] == [True, True, True]
    bad = locust(url, trace, tmp_path / "b", *fast, "--check-eps", "1e9")
    assert bad.returncode == 1, bad.stderr[-3000:]
    assert "events_per_second" in bad.stderr and "FAILED" in bad.stderr
    slow_p99 = locust(url, trace, tmp_path / "c", *fast, "--check-p99-ms", "0.001")
    assert slow_p99.returncode == 1


def test_two_processes_send_the_same_events_in_device_order(
    server: tuple[str, Path], trace: Path, tmp_path: Path
) -> None:
    url, data = server
    port = str(free_port())  # not Locust's default *:5557, which another run may hold
    done = locust(url, trace, tmp_path / "out", "--processes", "2", "--master-bind-port", port,
                  "--master-port", port, "--master-bind-host", "127.0.0.1")  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert httpx.get(f"{url}/v1/stats").json()["events_accepted"] == EVENTS
    result = summary(tmp_path / "out")
    assert result["events"] == result["planned_events"] == EVENTS
    assert result["options"]["processes"] == 2
    assert_device_order(stored_events(data))


def test_a_master_and_two_worker_processes_send_every_event_once_in_device_order(
    server: tuple[str, Path], trace: Path, tmp_path: Path
) -> None:
    """The command lines of docs/loadtest.md (Scaling past one machine), all on 127.0.0.1."""
    url, data = server
    port = str(free_port())  # never Locust's default 5557, which another run may hold
    base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    master = [*base, "--host", url, "--trace", str(trace), "--headless", "--master",
                     "--expect-workers", "2", "--master-bind-host", "127.0.0.1",
                     "--master-bind-port", port, "--replay-out", str(tmp_path / "out"),
                     "-t", "60s", "--speed", "30", "--lanes", "8", "--only-summary"]  # fmt: skip
    worker = [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", port]
    log = tmp_path / "master.log"
    with log.open("wb") as sink:
        processes = [subprocess.Popen(master, cwd=ROOT, env=env(), stdout=sink, stderr=sink)]
        processes += [
            subprocess.Popen(
                worker, cwd=ROOT, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            for _ in range(2)
        ]
        try:
            assert processes[0].wait(120) == 0, log.read_text()[-3000:]
            for process in processes[1:]:
                assert process.wait(30) == 0
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    result = summary(tmp_path / "out")
    assert result["events"] == result["planned_events"] == EVENTS
    assert result["options"]["processes"] == 2
    stored = stored_events(data)
    assert sorted(e["messageId"] for e in stored) == [f"m-{i:08d}" for i in range(EVENTS)]
    assert_device_order(stored)


def hopsim_loadtest(*argv: str) -> list[str]:
    return [sys.executable, "-m", "sim.cli", "loadtest", *argv]


def test_hopsim_master_and_two_hopsim_workers_send_every_event_once_in_device_order(
    server: tuple[str, Path], trace: Path, tmp_path: Path
) -> None:
    """docs/loadtest.md's one command per host, on 127.0.0.1: the trace split by device.

    The master names its trace relative to its own folder; one worker runs there and reads
    that path, the other runs in a folder without it and replays its own copy, as a worker
    on another host would.
    """
    url, data = server
    port = str(free_port())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(trace, elsewhere / "copy.jsonl.gz")
    out = tmp_path / "out"
    master = hopsim_loadtest(trace.name, "--master", "--expect-workers", "2",
                             "--master-bind-port", port, "--expect-workers-max-wait", "60",
                             "--host", url, "--out", str(out), "--speed", "30", "--lanes", "8",
                             "--check-fail-ratio", "0", "--no-report")  # fmt: skip
    worker = ["--worker", "--master-port", port, "--connect-timeout", "60"]
    runs = [  # the workers first: each waits until the master's port answers
        (hopsim_loadtest(*worker), tmp_path),
        (hopsim_loadtest("copy.jsonl.gz", *worker), elsewhere),
        (master, tmp_path),
    ]
    logs = [tmp_path / f"{name}.log" for name in ("worker-a", "worker-b", "master")]
    processes = []
    try:
        for (command, cwd), log in zip(runs, logs, strict=True):
            with log.open("wb") as sink:
                processes.append(
                    subprocess.Popen(command, cwd=cwd, env=env(), stdout=sink, stderr=sink)
                )
        assert processes[2].wait(120) == 0, logs[2].read_text()[-3000:]
        for process, log in zip(processes[:2], logs[:2], strict=True):
            assert process.wait(30) == 0, log.read_text()[-3000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    printed = logs[2].read_text()
    assert f"120 requests, {EVENTS} of {EVENTS} events, 0 failures" in printed
    assert f"run folder: {out}" in printed
    result = summary(out)
    assert result["events"] == result["planned_events"] == EVENTS
    assert result["options"]["processes"] == 2 and result["exit_code"] == 0
    assert [check["ok"] for check in result["checks"]] == [True]
    # each worker replayed one shard of its own trace file; the shards add up to the trace
    shards = [re.findall(r"shard (\d)/2: (\d+) events", log.read_text()) for log in logs[:2]]
    assert sorted(s[0][0] for s in shards) == ["0", "1"]
    assert sum(int(s[0][1]) for s in shards) == EVENTS
    stored = stored_events(data)
    assert sorted(e["messageId"] for e in stored) == [f"m-{i:08d}" for i in range(EVENTS)]
    assert_device_order(stored)


def test_a_hopsim_master_without_its_workers_stops_naming_the_flag(
    trace: Path, tmp_path: Path
) -> None:
    command = hopsim_loadtest(str(trace), "--master", "--expect-workers", "2",
                              "--master-bind-port", str(free_port()),
                              "--expect-workers-max-wait", "2", "--out", str(tmp_path / "out"),
                              "--host", "http://127.0.0.1:9", "--no-report")  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "--expect-workers 2: not all workers connected" in done.stderr
    assert not (
        tmp_path / "out" / "loadtest.json"
    ).exists()  # no summary of a replay that never ran


def test_a_worker_with_another_trace_stops_the_master(trace: Path, tmp_path: Path) -> None:
    other = write_trace(tmp_path / "other.jsonl.gz", events=500, devices=30, span_seconds=60.0)
    port = str(free_port())
    master = hopsim_loadtest(str(trace), "--master", "--expect-workers", "1",
                             "--master-bind-port", port, "--expect-workers-max-wait", "60",
                             "--out", str(tmp_path / "out"), "--host", "http://127.0.0.1:9",
                             "--no-report")  # fmt: skip
    worker = hopsim_loadtest(str(other), "--worker", "--master-port", port)
    with subprocess.Popen(worker, cwd=ROOT, env=env(), stderr=subprocess.DEVNULL) as process:
        try:
            done = subprocess.run(
                master, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=120
            )
        finally:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:  # a stuck worker is killed, never hangs the test
                process.kill()
    assert done.returncode == 2
    assert "the master's trace has" in done.stderr and "same trace file" in done.stderr


def test_a_master_whose_worker_dies_mid_replay_stops_instead_of_waiting(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    """One of two workers is killed after it began: its shard can never finish."""
    url, _ = server
    trace = write_trace(tmp_path / "t.jsonl.gz", events=600, devices=30, span_seconds=600.0)
    port = str(free_port())
    master = hopsim_loadtest(str(trace), "--master", "--expect-workers", "2",
                             "--master-bind-port", port, "--host", url, "--speed", "10",
                             "--out", str(tmp_path / "out"), "--no-report")  # fmt: skip
    worker = hopsim_loadtest("--worker", "--master-port", port)
    quiet = subprocess.DEVNULL
    workers = [
        subprocess.Popen(worker, cwd=ROOT, env=env(), stdout=quiet, stderr=quiet) for _ in range(2)
    ]
    began = time.monotonic()
    try:
        with subprocess.Popen(
            master, cwd=ROOT, env=env(), stderr=subprocess.PIPE, text=True
        ) as run:
            for _ in range(300):  # until the replay runs: the server has accepted an event
                if httpx.get(f"{url}/v1/stats").json()["events_accepted"]:
                    break
                time.sleep(0.1)
            for child in psutil.Process(workers[1].pid).children():
                child.kill()  # the Locust worker under `hopsim loadtest --worker`
            _, err = run.communicate(timeout=90)
        assert run.returncode == 2, err[-3000:]
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
            process.wait()
    assert "sent no heartbeat for 10 s before every shard was done" in err
    assert time.monotonic() - began < 60  # the trace alone would take 60 s at speed 10


def test_a_worker_stopped_with_sigterm_takes_its_locust_along_and_the_master_stops(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = server
    trace = write_trace(tmp_path / "t.jsonl.gz", events=600, devices=30, span_seconds=600.0)
    port = str(free_port())
    master = hopsim_loadtest(str(trace), "--master", "--expect-workers", "2",
                             "--master-bind-port", port, "--host", url, "--speed", "10",
                             "--out", str(tmp_path / "out"), "--no-report")  # fmt: skip
    worker = hopsim_loadtest("--worker", "--master-port", port)
    quiet = subprocess.DEVNULL
    workers = [
        subprocess.Popen(worker, cwd=ROOT, env=env(), stdout=quiet, stderr=quiet) for _ in range(2)
    ]
    try:
        with subprocess.Popen(
            master, cwd=ROOT, env=env(), stderr=subprocess.PIPE, text=True
        ) as run:
            for _ in range(300):  # until the replay runs: the server has accepted an event
                if httpx.get(f"{url}/v1/stats").json()["events_accepted"]:
                    break
                time.sleep(0.1)
            children = psutil.Process(workers[1].pid).children()
            workers[1].terminate()
            workers[1].wait(30)  # raises TimeoutExpired if SIGTERM did not stop it
            _, err = run.communicate(timeout=60)
        assert run.returncode == 2, err[-3000:]
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
            process.wait()
    assert children and not any(child.is_running() for child in children)
    assert "left before every shard was done" in err


class SlowHandler(BaseHTTPRequestHandler):
    """One request at a time (HTTPServer is not threaded), each taking 50 ms."""

    delay = 0.05

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.delay)
        body = b'{"success":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def test_a_slow_server_shows_in_latency_from_schedule_not_in_latency(tmp_path: Path) -> None:
    # 40 requests due over 0.8 s (50/s) against a server that manages 20/s
    trace = write_trace(tmp_path / "t.jsonl.gz", events=40, devices=1, span_seconds=39.0)
    slow = HTTPServer(("127.0.0.1", 0), SlowHandler)
    thread = threading.Thread(target=slow.serve_forever, daemon=True)
    thread.start()
    try:
        host = f"http://127.0.0.1:{slow.server_address[1]}"
        done = locust(host, trace, tmp_path / "out", "--speed", str(39 / 0.8),
                      "--batch-size", "1", "--lanes", "1")  # fmt: skip
    finally:
        slow.shutdown()
        slow.server_close()
    assert done.returncode == 0, done.stderr[-3000:]
    result = summary(tmp_path / "out")
    assert result["requests"] == 40
    latency, scheduled = result["latency_ms"], result["latency_from_schedule_ms"]
    assert latency["p50"] >= 45  # the server's 50 ms
    assert scheduled["max"] > 900  # the last request was due ~1.2 s before its answer
    assert scheduled["p99"] > 4 * latency["p99"]
    assert result["lane_wait_ms"]["p99"] > 500  # the lane could not keep up ...
    assert result["schedule_lag_ms"]["p99"] < result["lane_wait_ms"]["p99"]  # ... not the generator


def test_hopsim_loadtest_starts_its_own_server_and_fills_the_run_folder(
    trace: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "sim.cli", "loadtest", str(trace), "--speed", "60"]
    command += ["--out", str(out), "--no-report", "--lanes", "4", "--check-fail-ratio", "0"]
    done = subprocess.run(
        command, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    result = summary(out)
    assert result["server"]["events_accepted"] == result["events"] == EVENTS
    assert result["exit_code"] == 0 and result["checks"][0]["ok"]
    for name in ("loadtest_timeseries.csv", "locust_stats.csv", "locust.html"):
        assert (out / name).exists(), name
    assert "run folder:" in done.stdout


def test_hopsim_loadtest_refuses_a_missing_source(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "sim.cli", "loadtest", str(tmp_path / "nope.jsonl.gz")]
    done = subprocess.run(command, cwd=ROOT, env=env(), capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "no such scenario or trace" in done.stderr


def test_a_missing_trace_stops_locust_with_exit_code_2(tmp_path: Path) -> None:
    port = free_port()  # nothing listens: the replay must stop before sending anything
    done = locust(f"http://127.0.0.1:{port}", tmp_path / "missing.jsonl.gz", tmp_path / "out")
    assert done.returncode == 2, done.stderr[-3000:]
    assert "cannot replay" in done.stderr
