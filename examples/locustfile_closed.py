"""The closed-model alternative: Locust users whose number follows the trace's day.

    locust -f examples/locustfile_closed.py --headless --host http://127.0.0.1:8088 \\
        --trace reports/run/trace.jsonl.gz --speed 1440 --events-per-user 200

:class:`TraceShape` (a LoadTestShape, so Locust picks it up from this file)
sets the user count each second from the trace's own arrival rate
(``loadtest.shape.ArrivalShape``); every :class:`TraceBatchUser` posts the
next batch of the trace (in intended-time order) at ``--events-per-user``
events per second. Per-device order and timing are *not* kept here, and a
slow server slows the users down (coordinated omission): use
``loadtest/locustfile.py``, the open-model replay, to measure; use this one to
drive a familiar Locust ramp shaped like the simulated day. An example, not a
part of ``hopsim loadtest``: tests/loadtest/test_locustfile_closed.py runs it.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any, ClassVar, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from locust import FastHttpUser, LoadTestShape, constant_throughput, events, task
from locust.exception import StopUser

from loadtest import replay
from loadtest.shape import ArrivalShape


class Shared:
    bodies: ClassVar[list[bytes]] = []
    turn: Any = itertools.count()
    shape: ArrivalShape | None = None


def add_options(parser: Any) -> None:
    parser.add_argument("--trace", default="", help="trace.jsonl.gz whose day shapes the load")
    parser.add_argument("--speed", type=float, default=1440.0)
    parser.add_argument("--batch-size", type=int, default=replay.DEFAULT_BATCH_SIZE)
    parser.add_argument("--events-per-user", type=float, default=200.0, help="events/s per user")
    parser.add_argument("--max-users", type=int, default=1000)
    parser.add_argument("--batch-path", default="/v1/batch")


def on_init(environment: Any, **_: Any) -> None:
    opts = environment.parsed_options
    if opts is None or not opts.trace:
        return
    events_ = replay.read_trace(Path(opts.trace))
    plan = replay.build_plan(events_, speed=opts.speed, size=opts.batch_size, scope="lane")
    batches = sorted((b for lane in plan.lanes for b in lane), key=lambda b: b.intended)
    Shared.bodies = [b.body() for b in batches]
    Shared.shape = ArrivalShape(
        replay.arrival_rate(events_, opts.speed),
        events_per_user_second=opts.events_per_user,
        max_users=opts.max_users,
    )
    rate = opts.events_per_user / max(1, opts.batch_size)
    TraceBatchUser.wait_time = constant_throughput(rate)


class TraceBatchUser(FastHttpUser):
    @task
    def post_next_batch(self) -> None:
        index = next(Shared.turn)
        if index >= len(Shared.bodies):
            raise StopUser()  # the whole trace was sent; the shape ends the test
        path = self.environment.parsed_options.batch_path
        headers = {"Content-Type": "application/json"}
        self.client.post(path, data=cast(Any, Shared.bodies[index]), headers=headers, name=path)


class TraceShape(LoadTestShape):
    """Users follow the trace's events per second, smoothed over five seconds."""

    def tick(self) -> tuple[int, float] | None:
        if Shared.shape is None:
            return None
        result: tuple[int, float] | None = Shared.shape.tick(cast(Any, self).get_run_time())
        return result


hooks: Any = events
hooks.init_command_line_parser.add_listener(add_options)
hooks.init.add_listener(on_init)
