"""The trace replayer against a bare Locust loop, on the parse-only endpoint.

One ``hopsim serve`` with the parse-only route (``benchmarks/parse_server.py``)
on a free loopback port answers
``POST /bench/parse`` (decode, count, store nothing), so the numbers are about
the load generator, not the store. In the same run, alternating:

1. ``benchmarks/locust_bare.py``: LANES FastHttpUsers posting the replay plan's
   batches in a loop, no schedule, no measurement beyond a counter;
2. ``loadtest/locustfile.py`` replaying the same trace at an absurd speed, so
   every batch is due at once and only the generator's overhead limits it.

Target: replay requests/s >= 0.8x bare requests/s (median over ROUNDS
back-to-back pairs: the machine is shared, and neighbours drift). Then the
replay at half the best bare rate, a steady schedule: schedule lag p99 <= 10 ms
(best of HALF_ROUNDS).
Everything runs in subprocesses (Locust monkey-patches the process it is in).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks import Result

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 300_000
DEVICES = 3_000
SPAN = 3_600.0  # simulated seconds
BATCH = 10  # small batches: more requests per event, the harder case for the generator
LANES = 32
HALF_LANES = 64  # the open model's concurrency cap when the server is not saturated
ROUNDS = 5
HALF_ROUNDS = 2
BARE_SECONDS = 10  # Locust's -t counts from process start, plan building included


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _locust(locustfile: Path, host: str, trace: Path, *extra: str, lanes: int = LANES) -> None:
    command = [sys.executable, "-m", "locust", "-f", str(locustfile)]
    command += ["--headless", "--only-summary", "--host", host, "--trace", str(trace)]
    command += ["--batch-size", str(BATCH), "--batch-scope", "lane", "--lanes", str(lanes)]
    command += ["--batch-path", "/bench/parse", *extra]
    done = subprocess.run(
        command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"locust {locustfile} exited {done.returncode}: {done.stderr[-2000:]}")


def _bare(host: str, trace: Path, out: Path) -> float:
    _locust(ROOT / "benchmarks" / "locust_bare.py", host, trace, "-u", str(LANES), "-r", "1000",
            "-t", f"{BARE_SECONDS}s", "--bare-out", str(out))  # fmt: skip
    doc: dict[str, Any] = json.loads(out.read_text())
    return float(doc["rps"])


def _replay(host: str, trace: Path, out: Path, speed: float, lanes: int) -> dict[str, Any]:
    _locust(ROOT / "loadtest" / "locustfile.py", host, trace, "--speed", repr(speed), "--replay-out", str(out),
            "-t", "120s", lanes=lanes)  # fmt: skip
    doc: dict[str, Any] = json.loads((out / "loadtest.json").read_text())
    return doc


def run() -> list[Result]:
    from loadtest.synthetic import write_trace

    with tempfile.TemporaryDirectory(prefix="hopsim-bench-replay-") as tmp:
        work = Path(tmp)
        trace = write_trace(
            work / "trace.jsonl.gz", events=EVENTS, devices=DEVICES, span_seconds=SPAN
        )
        port = _free_port()
        host = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "benchmarks.parse_server", "--port", str(port)]
        command += ["--data", str(work / "data")]
        server = subprocess.Popen(command, cwd=ROOT, env=_env(), stderr=subprocess.DEVNULL)
        try:
            _wait(host, server)
            bare, replayed = [], []
            for i in range(ROUNDS):  # alternate, so drifting neighbours hit both alike
                bare.append(_bare(host, trace, work / f"bare{i}.json"))
                replayed.append(float(_replay(host, trace, work / f"max{i}", 1e9, LANES)["rps"]))
            asked = max(bare) / 2
            # lane batches fill on size: requests/s = events/s / BATCH
            speed = asked * BATCH * SPAN / EVENTS
            halves = [
                _replay(host, trace, work / f"half{i}", speed, HALF_LANES)
                for i in range(HALF_ROUNDS)
            ]
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    best_bare, best_replay = max(bare), max(replayed)
    # each round's pair ran back to back: the median ratio cancels the neighbours' drift
    ratio = statistics.median(r / b for r, b in zip(replayed, bare, strict=True))
    half = min(halves, key=lambda h: float(h["schedule_lag_ms"]["p99"]))
    lag = half["schedule_lag_ms"]
    return [
        Result("bare FastHttpUser loop", best_bare, "req/s", note=f"{LANES} users, best"),
        Result("replay, everything due at once", best_replay, "req/s", note=f"{LANES} lanes, best"),
        Result(
            "replay / bare requests per second",
            ratio,
            "x",
            target=0.8,
            note=f"median of {ROUNDS} back-to-back pairs",
        ),
        Result(
            "replay at half the bare rate",
            float(half["rps"]),
            "req/s",
            note=f"asked for {asked:,.0f}",
        ),
        Result(
            "schedule lag p99 at half rate",
            float(lag["p99"]),
            "ms",
            target=10.0,
            higher_is_better=False,
            note=f"p50 {lag['p50']} ms, best of {HALF_ROUNDS}",
        ),
        Result(
            "latency from schedule p99 at half rate",
            float(half["latency_from_schedule_ms"]["p99"]),
            "ms",
            note=f"plain latency p99 {half['latency_ms']['p99']} ms",
        ),
    ]


def _wait(host: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("hopsim serve exited")
        try:
            if httpx.get(f"{host}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("hopsim serve did not start")
