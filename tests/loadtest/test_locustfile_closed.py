"""The closed-model example runs: Locust users shaped like the trace's day post the whole trace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from loadtest.synthetic import write_trace

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "locustfile_closed.py"
pytestmark = pytest.mark.slow


class Collector(BaseHTTPRequestHandler):
    """A Segment batch endpoint in the test's own process: it notes every messageId it gets."""

    seen: ClassVar[Counter[str]] = Counter()
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        with self.lock:
            self.seen.update(event["messageId"] for event in body["batch"])
        answer = b'{"success":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: Any) -> None:
        pass


def test_the_closed_model_sends_every_batch_once_and_stops_with_the_day(tmp_path: Path) -> None:
    # 300 events over 60 simulated seconds at speed 20: a three-second day of replay.
    trace = write_trace(tmp_path / "t.jsonl.gz", events=300, devices=12, span_seconds=60.0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    Collector.seen.clear()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    command = [sys.executable, "-m", "locust", "-f", str(EXAMPLE), "--headless", "--only-summary"]
    command += ["--host", f"http://127.0.0.1:{server.server_address[1]}", "--trace", str(trace)]
    command += ["--speed", "20", "--batch-size", "10", "--events-per-user", "200", "-t", "120s"]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-3000:]
    assert Collector.seen == Counter(f"m-{i:08d}" for i in range(300))
    # The shape ends the test when the trace's day is over, long before -t would.
    assert elapsed < 90, f"the shape did not stop the test ({elapsed:.0f} s)"
