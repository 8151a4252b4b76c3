"""``hopsim serve`` under load: the durable path against a parse-only baseline.

Two processes on the same machine: a real ``hopsim serve`` with the
benchmark-only parse route added (``python -m benchmarks.parse_server``)
and a load generator (raw HTTP/1.1 over asyncio streams, keep-alive, one
process) started as ``python -m benchmarks.bench_http gen ...``. Every
ratio compares two endpoints of the *same* server in the *same* run:

- ``/v1/batch`` (validate, de-duplicate, group-committed fsync) against
  ``/bench/parse`` (decode, count, answer) with 100-event batches: events/s;
- ``/v1/track`` against ``/bench/parse`` with one event per request: requests/s;
- p99 latency of ``/v1/batch`` at 70% of its measured maximum, open model:
  each request has an intended send time and latency is counted from it, so
  a stalled server cannot hide behind a waiting generator (median of three
  runs; the worst is in the note).

Every body carries fresh ``messageId``s, so nothing is de-duplicated away.
After the maximum-rate phase the bench waits for the engine to catch up with
the log and reports the end-to-end rate too (no target: the engine's own
speed is measured by its own benchmark).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks import Result

HOST = "127.0.0.1"
SECONDS = float(os.environ.get("HOPSIM_BENCH_SECONDS", "2.5"))
ROUNDS = 3
SINGLE_CONNS = 64
BATCH = 100

_EVENT = (
    b'{"type":"track","event":"Product Viewed","messageId":"%s-%%d",'
    b'"userId":"u%d","anonymousId":"a%d","timestamp":"2026-11-02T07:13:05.123Z",'
    b'"properties":{"product_id":"p-12","price":19.0,"currency":"USD"},'
    b'"context":{"device":{"id":"d%d","type":"phone","model":"iPhone 15",'
    b'"manufacturer":"Apple"},"os":{"name":"iOS","version":"17.4"},'
    b'"app":{"name":"Shopwise","version":"4.2.0","build":"420"},"ip":"73.12.4.9",'
    b'"locale":"en-US","timezone":"America/New_York",'
    b'"library":{"name":"hopsim","version":"0.1.0"}}}'
)


def body_factory(run: str, per_request: int) -> Callable[[], bytes]:
    """Bodies with fresh messageIds; 50 templates spread users over 5,000 profiles."""
    templates = []
    for t in range(50):
        events = []
        for j in range(per_request):
            user = (t * per_request + j) % 5000
            events.append(_EVENT % (run.encode(), user, user, user))
        joined = b",".join(events)
        templates.append(b'{"batch":[' + joined + b"]}" if per_request > 1 else joined)
    counter = iter(range(10**12))

    def make() -> bytes:
        n = next(counter)
        template = templates[n % len(templates)]
        base = n * per_request
        return template % tuple(range(base, base + per_request))

    return make


# -- the load generator (its own process) ------------------------------------------


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes
) -> int:
    writer.write(head % len(body) + body)
    header = await reader.readuntil(b"\r\n\r\n")
    status = int(header[9:12])
    length = 0
    for line in header.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def generate(port: int, path: str, per_request: int, seconds: float, rate: float, conns: int,
                   run: str, auth: str = "") -> dict[str, Any]:  # fmt: skip
    """Closed loop (``rate`` 0) or open loop at ``rate`` requests/s; latencies in seconds.

    ``auth``: a whole ``Authorization`` header value to send (the write key as Basic user).
    """
    extra = f"Authorization: {auth}\r\n" if auth else ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n{extra}"
        "Content-Length: %d\r\n\r\n"
    ).encode()
    make = body_factory(run, per_request)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter() + 0.2
    deadline = start + seconds
    ticket = iter(range(10**12))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        while True:
            if rate:
                intended = start + next(ticket) / rate
                if intended >= deadline:
                    break
                delay = intended - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                intended = time.perf_counter()
                if intended >= deadline:
                    break
            status = await _request(reader, writer, head, make())
            latencies.append(time.perf_counter() - intended)
            statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    cpu = time.process_time()
    await asyncio.gather(*(worker() for _ in range(conns)))
    elapsed = time.perf_counter() - start
    ok = statuses.get(200, 0)
    latencies.sort()
    return {
        "requests_per_s": ok / elapsed,
        "events_per_s": ok * per_request / elapsed,
        "statuses": statuses,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else 0.0,
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else 0.0,
        "p90_ms": 1000 * latencies[int(len(latencies) * 0.90)] if latencies else 0.0,
        "max_ms": 1000 * latencies[-1] if latencies else 0.0,
        "generator_cpu": (time.process_time() - cpu) / elapsed,
    }


def _gen_main(args: list[str]) -> None:
    spec = json.loads(args[0])
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    print(json.dumps(asyncio.run(generate(**spec))))


# -- the orchestration (the bench process) ----------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running_server(data: Path, *extra: str) -> Iterator[int]:
    """A real ``hopsim serve`` on a free loopback port; SIGTERM when done."""
    import httpx

    port = _free_port()
    cmd = [sys.executable, "-m", "benchmarks.parse_server", "--port", str(port),
           "--data", str(data), "--max-inflight", "512", *extra]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://{HOST}:{port}/healthz", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None:
                raise RuntimeError(f"hopsim serve died: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def load(port: int, path: str, per_request: int, *, rate: float = 0.0, conns: int = 16,
         seconds: float = SECONDS, auth: str = "") -> dict[str, Any]:  # fmt: skip
    """Run the generator in its own process and return its JSON summary."""
    spec = {"port": port, "path": path, "per_request": per_request, "seconds": seconds,
            "rate": rate, "conns": conns, "run": f"r{time.time_ns()}", "auth": auth}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_http", "gen", json.dumps(spec)],
        capture_output=True,
        check=True,
        timeout=seconds + 60,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def wait_caught_up(port: int, timeout: float = 120.0) -> float:
    """Seconds until the engine has applied every durable event."""
    import httpx

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        stats = httpx.get(f"http://{HOST}:{port}/v1/stats", timeout=timeout).json()
        if stats["engine_lag_bytes"] == 0:
            break
        time.sleep(0.05)
    return time.perf_counter() - started


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def measure(*extra: str) -> dict[str, Any]:
    """Every phase against one server; ``extra`` goes to ``hopsim serve`` (e.g. --http h11).

    The machine is shared, so each ratio is the median of ``ROUNDS`` back-to-back
    pairs (baseline then durable path), not one long run of each.
    """
    with (
        tempfile.TemporaryDirectory(prefix="hopsim-bench-") as tmp,
        running_server(Path(tmp), *extra) as port,
    ):
        load(port, "/bench/parse", BATCH, seconds=1.0)  # warm up both paths
        load(port, "/v1/batch", BATCH, seconds=1.0)
        wait_caught_up(port)
        rounds: list[dict[str, Any]] = []
        for _ in range(ROUNDS):
            r: dict[str, Any] = {}
            r["parse_batch"] = load(port, "/bench/parse", BATCH)
            r["batch"] = load(port, "/v1/batch", BATCH)
            catch_up = wait_caught_up(port)
            accepted = r["batch"]["events_per_s"] * SECONDS
            r["end_to_end_events_per_s"] = accepted / (SECONDS + catch_up)
            # Single events: 64 connections, like a fleet of SDKs; one fsync then
            # serves many requests (32 connections: ~0.4-0.5, 128: ~0.7).
            r["parse_single"] = load(port, "/bench/parse", 1, conns=SINGLE_CONNS)
            r["track"] = load(port, "/v1/track", 1, conns=SINGLE_CONNS)
            wait_caught_up(port)
            rounds.append(r)
        batch_rate = _median([r["batch"]["requests_per_s"] for r in rounds])
        runs_70 = []
        for _ in range(ROUNDS):
            runs_70.append(load(port, "/v1/batch", BATCH, rate=0.7 * batch_rate, conns=32))
            wait_caught_up(port)
        at_70 = sorted(runs_70, key=lambda r: r["p99_ms"])[len(runs_70) // 2]
        at_70["worst_p99_ms"] = max(r["p99_ms"] for r in runs_70)
    return {
        "rounds": rounds,
        "batch_ratio": _median(
            [r["batch"]["events_per_s"] / r["parse_batch"]["events_per_s"] for r in rounds]
        ),
        "track_ratio": _median(
            [r["track"]["requests_per_s"] / r["parse_single"]["requests_per_s"] for r in rounds]
        ),
        "batch_events_per_s": _median([r["batch"]["events_per_s"] for r in rounds]),
        "parse_events_per_s": _median([r["parse_batch"]["events_per_s"] for r in rounds]),
        "track_requests_per_s": _median([r["track"]["requests_per_s"] for r in rounds]),
        "parse_requests_per_s": _median([r["parse_single"]["requests_per_s"] for r in rounds]),
        "end_to_end_events_per_s": _median([r["end_to_end_events_per_s"] for r in rounds]),
        "at_70": at_70,
        "generator_cpu": max(
            p["generator_cpu"] for r in rounds for p in r.values() if isinstance(p, dict)
        ),
    }


STALLED = 64
_KEY = "bench-key"
_AUTH = "Basic " + __import__("base64").b64encode(f"{_KEY}:".encode()).decode()


@contextlib.contextmanager
def stalled_clients(port: int, count: int = STALLED) -> Iterator[list[socket.socket]]:
    """``count`` connections without a key: a head, a partial body, then nothing (issue 18)."""
    head = (f"POST /v1/batch HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            'Content-Length: 100000\r\n\r\n{"batch": [').encode()  # fmt: skip
    sockets = []
    try:
        for _ in range(count):
            sock = socket.create_connection((HOST, port), timeout=10)
            sock.sendall(head)
            sockets.append(sock)
        time.sleep(0.3)  # every one of them is inside the server, waiting for its body
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def measure_stalled() -> dict[str, Any]:
    """Authenticated ``/v1/batch`` throughput with and without ``STALLED`` stalled clients.

    The server runs with a write key, the default ``--max-inflight 64`` (the
    stalled clients alone would fill it if they could hold a slot) and a body
    timeout longer than a phase, so the stalled clients stay for all of it.
    Median of ``ROUNDS`` back-to-back pairs.
    """
    extra = ("--write-key", _KEY, "--max-inflight", "64", "--body-timeout", "60")
    with (
        tempfile.TemporaryDirectory(prefix="hopsim-bench-") as tmp,
        running_server(Path(tmp), *extra) as port,
    ):
        load(port, "/v1/batch", BATCH, seconds=1.0, auth=_AUTH)
        wait_caught_up(port)
        pairs = []
        for _ in range(ROUNDS):
            alone = load(port, "/v1/batch", BATCH, auth=_AUTH)
            wait_caught_up(port)
            with stalled_clients(port):
                beside = load(port, "/v1/batch", BATCH, auth=_AUTH)
            wait_caught_up(port)
            pairs.append((alone, beside))
    return {
        "ratio": _median([b["events_per_s"] / a["events_per_s"] for a, b in pairs]),
        "alone_events_per_s": _median([a["events_per_s"] for a, _ in pairs]),
        "beside_events_per_s": _median([b["events_per_s"] for _, b in pairs]),
        "statuses_beside": [b["statuses"] for _, b in pairs],
    }


def run() -> list[Result]:
    m = measure()
    stalled = measure_stalled()
    at_70 = m["at_70"]
    return [
        Result("batch100 events/s vs parse-only", m["batch_ratio"], "ratio", 0.3,
               note=f"{m['batch_events_per_s']:,.0f} vs {m['parse_events_per_s']:,.0f} ev/s"),
        Result("batch100 p99 at 70% of max rate", at_70["p99_ms"], "ms", 50.0,
               higher_is_better=False,
               note=f"median of {ROUNDS}; p50 {at_70['p50_ms']:.1f} ms, worst p99 "
                    f"{at_70['worst_p99_ms']:.0f} ms at {at_70['requests_per_s']:,.0f} req/s"),
        Result("track req/s vs parse-only", m["track_ratio"], "ratio", 0.5,
               note=f"{m['track_requests_per_s']:,.0f} vs {m['parse_requests_per_s']:,.0f} req/s"),
        Result("batch100 end-to-end incl. engine", m["end_to_end_events_per_s"], "events/s",
               note="durable and applied by the engine"),
        Result(f"batch100 with {STALLED} stalled keyless clients vs none", stalled["ratio"],
               "ratio", 0.9,
               note=f"{stalled['beside_events_per_s']:,.0f} vs "
                    f"{stalled['alone_events_per_s']:,.0f} ev/s, authenticated, max-inflight 64"),
        Result("generator cpu (max of phases)", m["generator_cpu"], "share",
               note="near 1.0 would mean the generator, not the server, was the limit"),
    ]  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["gen"]:
        _gen_main(sys.argv[2:])
    elif sys.argv[1:2] == ["stalled"]:
        print(json.dumps(measure_stalled(), indent=1))
    else:
        print(json.dumps(measure(*sys.argv[1:]), indent=1))
