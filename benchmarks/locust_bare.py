"""BENCHMARK ONLY: the baseline the replayer is held to.

A bare FastHttpUser loop (``-u`` users, no wait) posting the very batches the
replay plan builds from ``--trace``, round-robin, as fast as the server
answers. It counts requests between the first send and the last answer and
writes ``{"requests", "failures", "duration_s", "rps"}`` to ``--bare-out``.
``benchmarks/bench_replay.py`` runs it next to ``locustfile.py``.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any, ClassVar, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from locust import FastHttpUser, events, task

from loadtest import replay


class State:
    bodies: ClassVar[list[bytes]] = []
    turn: Any = itertools.count()
    first = 0.0
    last = 0.0
    requests = 0
    failures = 0


def add_options(parser: Any) -> None:
    parser.add_argument("--trace", default="")
    parser.add_argument("--speed", type=float, default=1e9)
    parser.add_argument("--batch-size", type=int, default=replay.DEFAULT_BATCH_SIZE)
    parser.add_argument("--batch-interval", type=float, default=replay.DEFAULT_INTERVAL)
    parser.add_argument("--batch-scope", choices=replay.SCOPES, default="lane")
    parser.add_argument("--lanes", type=int, default=16)
    parser.add_argument("--batch-path", default="/bench/parse")
    parser.add_argument("--bare-out", default="")


def on_init(environment: Any, **_: Any) -> None:
    opts = environment.parsed_options
    plan = replay.build_plan(
        replay.read_trace(Path(opts.trace)),
        speed=opts.speed,
        lanes=opts.lanes,
        size=opts.batch_size,
        interval=opts.batch_interval,
        scope=opts.batch_scope,
    )
    State.bodies = [batch.body() for lane in plan.lanes for batch in lane]


def on_quitting(environment: Any, **_: Any) -> None:
    out = environment.parsed_options.bare_out
    duration = State.last - State.first
    doc = {
        "requests": State.requests,
        "failures": State.failures,
        "duration_s": duration,
        "rps": State.requests / duration if duration > 0 else 0.0,
    }
    if out:
        Path(out).write_text(json.dumps(doc) + "\n", encoding="utf-8")


class BareUser(FastHttpUser):
    """One sequential poster; ``-u`` of them share the batches."""

    @task
    def post(self) -> None:
        bodies = State.bodies
        path = self.environment.parsed_options.batch_path
        headers = {"Content-Type": "application/json"}
        body = bodies[next(State.turn) % len(bodies)]
        start = time.perf_counter()
        response = self.client.post(path, data=cast(Any, body), headers=headers, name=path)
        end = time.perf_counter()
        State.first = State.first or start
        State.last = end
        State.requests += 1
        if not 200 <= (response.status_code or 0) < 300:
            State.failures += 1


hooks: Any = events
hooks.init_command_line_parser.add_listener(add_options)
hooks.init.add_listener(on_init)
hooks.quitting.add_listener(on_quitting)
