"""A real ``hopsim serve`` on loopback: official Segment SDK, kill -9, SIGTERM, overload."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from sim.serve.client import HopsimClient, auth_header
from sim.serve.store import EventLog

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


pytestmark = [
    pytest.mark.slow,
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """One ``hopsim serve`` child process on a free loopback port."""

    def __init__(self, data: Path, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        cmd = [sys.executable, "-m", "sim.cli", "serve", "--port", str(self.port),
               "--data", str(data), *extra]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(self.stderr())
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError("hopsim serve did not become healthy in 30 s")

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")[-3000:]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@contextlib.contextmanager
def serving(data: Path, *extra: str) -> Iterator[Server]:
    server = Server(data, *extra)
    try:
        yield server
    finally:
        server.stop()


def logged_ids(data: Path) -> list[str]:
    log = EventLog(data)
    try:
        return [e["messageId"] for batch in log.replay() for e in batch]
    finally:
        log.close()


def test_the_official_segment_sdk_is_accepted(tmp_path: Path) -> None:
    from segment.analytics import Client
    from segment.analytics.request import APIError

    with serving(tmp_path, "--write-key", "wk-test") as server:
        errors: list[Any] = []
        # Once posting each call (sync_mode), once the way apps run it: a
        # background consumer batching and gzipping uploads.
        for gzip in (False, True):
            sdk = Client(
                write_key="wk-test",
                host=server.url,
                sync_mode=not gzip,
                gzip=gzip,
                on_error=lambda error, batch: errors.append(error),
                max_retries=0,
            )
            suffix = "-gz" if gzip else ""
            sdk.identify(f"user-1{suffix}", {"name": "Ann", "email": "ann@example.com"},
                         anonymous_id=f"anon-1{suffix}")  # fmt: skip
            sdk.track(f"user-1{suffix}", "Product Viewed", {"price": 19.0})
            sdk.page(f"user-1{suffix}", "Docs", "Getting started", {"path": "/start"})
            sdk.screen(f"user-1{suffix}", "Shop", "Cart")
            sdk.alias(f"anon-2{suffix}", f"user-1{suffix}")
            sdk.flush()
            if gzip:
                sdk.shutdown()
        assert errors == []
        with HopsimClient(server.url, write_key="wk-test") as client:
            stats = client.stats()
            assert stats["events_accepted"] == 10
            assert stats["events_rejected"] == 0
            found = client.identity(user_id="user-1")
            assert found is not None
            assert "anon-1" in found["profile"]["anonymous_ids"]
            assert client.profile(found["profile_id"]) is not None
        wrong = Client(write_key="nope", host=server.url, sync_mode=True, max_retries=0)
        with pytest.raises(APIError) as refused:
            wrong.track("user-1", "Refused")
        assert refused.value.status == 401


def test_sigterm_flushes_and_restart_replays(tmp_path: Path) -> None:
    with serving(tmp_path) as server, HopsimClient(server.url) as client:
        events = [{"type": "track", "event": "e", "userId": "u", "messageId": f"t{i}"}
                  for i in range(20)]  # fmt: skip
        assert client.batch(events).status_code == 200
        server.stop(signal.SIGTERM)
    assert logged_ids(tmp_path) == [f"t{i}" for i in range(20)]
    with serving(tmp_path) as server, HopsimClient(server.url) as client:
        assert client.stats()["events_accepted"] == 20


def test_kill_9_under_load_loses_no_acknowledged_event(tmp_path: Path) -> None:
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    server = Server(tmp_path)

    def sender(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=5) as http:
            for n in range(100_000):
                if stop.is_set():
                    return
                ids = [f"k{worker}-{n}-{j}" for j in range(25)]
                batch = [{"type": "track", "event": "e", "userId": f"u{worker}", "messageId": i}
                         for i in ids]  # fmt: skip
                try:
                    response = http.post("/v1/batch", json={"batch": batch})
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    with lock:
                        acked.extend(ids)

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(acked) < 2000 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.proc.send_signal(signal.SIGKILL)  # mid-stream: the senders are still sending
    server.proc.wait(timeout=10)
    for thread in threads:
        thread.join(timeout=30)
    stop.set()
    assert len(acked) >= 2000

    ids = logged_ids(tmp_path)
    assert len(ids) == len(set(ids)), "an event was stored twice"
    missing = set(acked) - set(ids)
    assert not missing, f"{len(missing)} acknowledged events lost"

    with serving(tmp_path) as again, HopsimClient(again.url) as client:
        before = client.stats()
        assert before["events_accepted"] == len(ids)
        # Retrying every acknowledged batch after the restart stores nothing new.
        for start in range(0, len(acked), 500):
            chunk = acked[start : start + 500]
            batch = [{"type": "track", "event": "e", "userId": "u", "messageId": i}
                     for i in chunk]  # fmt: skip
            assert client.batch(batch).status_code == 200
        after = client.stats()
        assert after["events_accepted"] == before["events_accepted"]
        assert after["events_duplicate"] == len(acked)


def test_overload_answers_429_with_retry_after_and_recovers(tmp_path: Path) -> None:
    with serving(tmp_path, "--max-inflight", "4") as server:
        process = psutil.Process(server.proc.pid)
        statuses: list[int] = []
        latencies: list[float] = []
        retry_after: set[str] = set()
        lock = threading.Lock()
        body = {"batch": [{"type": "track", "event": "e", "userId": "u", "messageId": ""}]}

        def blast(worker: int) -> None:
            with httpx.Client(base_url=server.url, timeout=10) as http:
                for n in range(60):
                    body_n = {"batch": [dict(body["batch"][0], messageId=f"o{worker}-{n}-{j}")
                                        for j in range(200)]}  # fmt: skip
                    started = time.perf_counter()
                    response = http.post("/v1/batch", json=body_n)
                    with lock:
                        statuses.append(response.status_code)
                        if response.status_code == 200:
                            latencies.append(time.perf_counter() - started)
                        else:
                            retry_after.add(response.headers.get("retry-after", ""))

        rss_before = process.memory_info().rss
        threads = [threading.Thread(target=blast, args=(w,)) for w in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        rss_after = process.memory_info().rss
        assert set(statuses) <= {200, 429}
        assert statuses.count(429) > 0, "offered load never exceeded capacity"
        assert statuses.count(200) > 0
        assert retry_after == {"1"}
        latencies.sort()
        assert latencies[int(len(latencies) * 0.99) - 1] < 5.0
        assert rss_after - rss_before < 300 * 1024 * 1024
        with HopsimClient(server.url) as client:
            one = [{"type": "track", "event": "e", "userId": "u", "messageId": "after"}]
            assert client.batch(one).status_code == 200
            assert client.stats()["events_accepted"] == 200 * statuses.count(200) + 1


def test_scenario_identity_table_is_read_and_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text("[identity]\n", encoding="utf-8")
    with serving(tmp_path / "data", "--scenario", str(good)) as server:
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    bad = tmp_path / "bad.toml"
    bad.write_text("[identity\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", "serve", "--port", str(free_port()),
         "--data", str(tmp_path / "data2"), "--scenario", str(bad)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "bad.toml" in done.stderr


def test_loopback_is_the_default_bind_and_a_used_data_dir_is_refused(tmp_path: Path) -> None:
    from sim.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1" and args.port == 8088
    with serving(tmp_path) as server:
        second = subprocess.run(
            [sys.executable, "-m", "sim.cli", "serve", "--port", str(free_port()),
             "--data", str(tmp_path)],
            cwd=REPO, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode != 0
        assert "in use" in second.stderr
        assert httpx.get(f"{server.url}/healthz", headers=auth_header("x")).status_code == 200


def test_no_stray_server_left(tmp_path: Path) -> None:
    me = psutil.Process(os.getpid())
    assert all("sim.cli" not in " ".join(c.cmdline()) for c in me.children(recursive=True))


def test_scenario_campaigns_tick_on_event_time_and_decisions_are_served(tmp_path: Path) -> None:
    scenario = REPO / "scenarios" / "abandoned-cart.toml"
    if not scenario.exists():
        pytest.skip("scenarios/abandoned-cart.toml is not in this checkout")
    phone = {"device": {"id": "d1", "type": "phone"}, "timezone": "America/New_York"}
    events = [
        {"type": "identify", "userId": "u1", "anonymousId": "a1", "messageId": "m1",
         "timestamp": "2026-11-02T14:00:00.000Z", "context": phone},
        {"type": "track", "event": "Product Added", "userId": "u1", "anonymousId": "a1",
         "messageId": "m2", "timestamp": "2026-11-02T14:01:00.000Z", "context": phone},
        # Someone else, two hours later in event time: the cart trigger is now due.
        {"type": "track", "event": "Product Viewed", "userId": "u2", "anonymousId": "a2",
         "messageId": "m3", "timestamp": "2026-11-02T16:30:00.000Z",
         "context": {"device": {"id": "d2", "type": "phone"}}},
    ]  # fmt: skip
    with serving(tmp_path, "--scenario", str(scenario)) as server:
        with HopsimClient(server.url) as client:
            assert client.batch(events).status_code == 200
            found = client.identity(user_id="u1")
            assert found is not None
            deadline = time.monotonic() + 15
            decisions: list[dict[str, Any]] = []
            while not decisions and time.monotonic() < deadline:
                time.sleep(0.2)
                decisions = client.messages(found["profile_id"])
        assert decisions, "the cart campaign never decided"
        assert decisions[0]["campaign"] == "cart-free-shipping"
        assert decisions[0]["decision"]  # sent, or suppressed with a reason
