"""Replay a hopsim trace with Locust: open model, timing-faithful, SDK-like batches.

    locust -f loadtest/locustfile.py --headless --host http://127.0.0.1:8088 \\
        --trace reports/run/trace.jsonl.gz --speed 1440 -t 60s

One :class:`ReplayUser` per process walks its shard of the trace: every batch
leaves at its intended time (``loadtest.replay``) on one of ``--lanes``
sequential senders, so per-device order holds and the load does not depend on
how fast the server answers (open model). ``-u``/``-r`` are overridden: one
replay user per process is the whole load. Measurements (``loadtest.measure``)
are exact and corrected for coordinated omission; in distributed mode
(``--processes`` or ``--master/--worker``) the trace is split by device and
the workers ship raw samples to the master with ``report_to_master``. At quit,
``--check-*`` thresholds set the exit code and ``--replay-out DIR`` receives
``loadtest.json`` and ``loadtest_timeseries.csv``.
"""

from __future__ import annotations

import base64
import gc
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `import loadtest.*`

import gevent
from gevent.pool import Group
from locust import FastHttpUser, events, task
from locust.contrib.fasthttp import FastHttpSession
from locust.runners import (
    STATE_MISSING,
    STATE_RUNNING,
    STATE_SPAWNING,
    MasterRunner,
    WorkerRunner,
)

from loadtest import checks, replay
from loadtest.measure import Recorder, rounded, write_series

log = logging.getLogger("hopsim.replay")
RETRY_STATUSES = frozenset({0, 408, 429, 500, 502, 503, 504})
SUMMARY_FILE = "loadtest.json"
SERIES_FILE = "loadtest_timeseries.csv"
MISSING_GRACE_S = 10.0  # a worker without heartbeat this long is taken for dead


class ReplayState:
    """Per-process state the hooks and the user share."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.merged: Recorder | None = None  # master: everything the workers shipped
        self.done_shards: set[str] = set()
        self.shards = 1
        self.finished = False
        self.started = False  # master: the workers were all there and got their shards
        self.stopped_at: float | None = None  # master: when Locust stopped the test
        self.quitting = False
        # A worker's own ``--trace``: its copy of the master's trace at another path. The
        # master's options replace the worker's at spawn, so it is kept aside at init.
        self.own_trace = ""


STATE = ReplayState()


def add_options(parser: Any) -> None:
    group = parser.add_argument_group("hopsim trace replay")
    group.add_argument("--trace", default="", help="trace.jsonl.gz to replay (required)")
    group.add_argument(
        "--speed", type=float, default=1.0, help="time compression (1440: a day/min)"
    )
    group.add_argument("--batch-size", type=int, default=replay.DEFAULT_BATCH_SIZE)
    group.add_argument("--batch-interval", type=float, default=replay.DEFAULT_INTERVAL)
    group.add_argument("--batch-scope", choices=replay.SCOPES, default="device")
    group.add_argument("--lanes", type=int, default=32, help="sequential senders in total")
    group.add_argument("--write-key", default="", help="sent as HTTP Basic user")
    group.add_argument("--batch-path", default="/v1/batch", help="where batches are POSTed")
    group.add_argument("--retries", type=int, default=3, help="on 429/5xx/connection errors")
    group.add_argument("--replay-out", default="", help="folder for loadtest.json and series")
    group.add_argument("--replay-keep-running", action="store_true", help="don't quit at the end")
    group.add_argument("--check-p99-ms", type=float, default=None)
    group.add_argument("--check-fail-ratio", type=float, default=None)
    group.add_argument("--check-eps", type=float, default=None, help="events/s at least")
    group.add_argument("--check-latency", choices=tuple(checks.LATENCY_KEYS), default="schedule")


class ReplayUser(FastHttpUser):
    """The whole replay of one shard; each lane is a greenlet with its own connection."""

    fixed_count = 1
    insecure = False

    @task
    def replay_shard(self) -> None:
        if STATE.finished:  # restarted by Locust after the replay ended
            gevent.sleep(3600)
            return
        opts = self.environment.parsed_options
        shard, shards = _my_shard(self.environment)
        lanes = max(1, int(opts.lanes) // shards)
        trace = STATE.own_trace or opts.trace
        try:
            if not trace:
                raise replay.TraceError("--trace PATH is required (a hopsim trace.jsonl.gz)")
            _check_same_trace(Path(trace), getattr(opts, "replay_trace_bytes", None))
            events_ = replay.read_trace(Path(trace), shard, shards, on_progress=let_others_run)
            plan = replay.build_plan(
                events_,
                on_progress=let_others_run,
                speed=opts.speed,
                lanes=lanes,
                shards=shards,
                size=opts.batch_size,
                interval=opts.batch_interval,
                scope=opts.batch_scope,
            )
        except (replay.TraceError, ValueError) as exc:
            log.error("cannot replay: %s", exc)
            self.environment.process_exit_code = 2
            STATE.finished = True
            _shard_done(self.environment, force_quit=True, error=str(exc))
            return
        del events_
        # The plan is hundreds of thousands of objects that live until the end: move them
        # out of the cyclic GC's sight, or each full collection stalls every lane.
        gc.collect()
        gc.freeze()
        log.info(
            "shard %d/%d: %d events in %d batches on %d lanes, %.1f s of replay",
            shard, shards, plan.events, plan.batches, lanes, plan.span,
        )  # fmt: skip
        STATE.recorder = rec = Recorder()
        rec.planned_events, rec.planned_batches = plan.events, plan.batches
        headers = {"Content-Type": "application/json"}
        if opts.write_key:
            token = base64.b64encode(f"{opts.write_key}:".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        group = Group()
        for lane in plan.lanes:
            if lane:
                group.spawn(self._run_lane, lane, rec, headers)
        try:
            group.join(raise_error=True)
        finally:
            group.kill(block=False)
        STATE.finished = True
        _shard_done(self.environment)

    def _lane_session(self) -> FastHttpSession:
        """A lane's own keep-alive connection, configured like ``self.client``."""
        return FastHttpSession(
            base_url=self.host,
            request_event=self.environment.events.request,
            network_timeout=self.network_timeout,
            connection_timeout=self.connection_timeout,
            max_redirects=self.max_redirects,
            max_retries=self.max_retries,
            insecure=self.insecure,
            concurrency=1,
            user=self,
            client_pool=self.client_pool,
            ssl_context_factory=self.ssl_context_factory,
            headers=self.default_headers,
            proxy_host=self.proxy_host,
            proxy_port=self.proxy_port,
        )

    def _run_lane(self, lane: list[replay.Batch], rec: Recorder, headers: dict[str, str]) -> None:
        opts = self.environment.parsed_options
        path, retries = opts.batch_path, int(opts.retries)
        post, now, add, sleep = self._lane_session().post, rec.now, rec.add, gevent.sleep
        free = 0.0  # when this lane's previous request was answered
        for batch in lane:
            wait = batch.intended - now()
            if wait > 0:
                sleep(wait)
            body = batch.body()
            ready = max(batch.intended, free)
            attempt = 0
            while True:
                start = now()
                response = post(path, data=cast(Any, body), headers=headers, name=path)
                free = end = now()
                status = response.status_code or 0
                ok = 200 <= status < 300
                add(batch.intended, start, end, batch.count, ok, ready)
                if ok or attempt >= retries or status not in RETRY_STATUSES:
                    break
                attempt += 1
                pause = _backoff(response, attempt)
                sleep(pause)
                ready = end + pause


def let_others_run() -> None:
    """Let Locust's own greenlets run while a worker loads and plans a large trace.

    A master calls a worker missing after about three seconds without its heartbeat and
    stops the test when none is left, so loading a million-event shard must pause often.
    NOTE: ``gevent.sleep(0)`` runs waiting greenlets but not due timers, and the heartbeat
    is a timer; a one-millisecond sleep runs both.
    """
    gevent.sleep(0.001)


def _backoff(response: Any, attempt: int) -> float:
    try:
        after = float(response.headers.get("retry-after") or 0)
    except (TypeError, ValueError, AttributeError):
        after = 0.0
    return float(min(1.0, max(after, 0.05 * 2**attempt)))


def _check_same_trace(trace: Path, master_bytes: int | None) -> None:
    """A worker's trace must be the master's file: same size, or the shards would not add up."""
    if master_bytes is None or not trace.exists():
        return
    size = trace.stat().st_size
    if size != master_bytes:
        raise replay.TraceError(
            f"{trace}: {size} bytes, the master's trace has {master_bytes}; "
            "every worker needs a copy of the same trace file"
        )


def _my_shard(environment: Any) -> tuple[int, int]:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        mapping = getattr(environment.parsed_options, "replay_shards", None) or {}
        if runner.client_id in mapping:
            return int(mapping[runner.client_id]), len(mapping)
        count = max(1, int(getattr(environment.parsed_options, "expect_workers", 1)))
        return runner.worker_index % count, count
    return 0, 1


def _shard_done(environment: Any, force_quit: bool = False, error: str = "") -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.send_message("replay_done", {"client_id": runner.client_id, "error": error,
                                            "replay": STATE.recorder.take_unshipped()})  # fmt: skip
        return
    _finish(environment, force_quit)


def _finish(environment: Any, force_quit: bool = False) -> None:
    opts = environment.parsed_options
    if opts is None or (opts.replay_keep_running and not force_quit):
        log.info("replay finished; --replay-keep-running: leaving Locust running")
        return
    log.info("replay finished: every batch of the trace was sent")
    gevent.spawn(environment.runner.quit if opts.headless else environment.runner.stop)


def on_init(environment: Any, **_: Any) -> None:
    opts = environment.parsed_options
    runner = environment.runner
    if opts is None or runner is None:
        return
    if isinstance(runner, WorkerRunner):
        STATE.own_trace = opts.trace
        return
    shards = max(1, int(opts.expect_workers)) if isinstance(runner, MasterRunner) else 1
    ReplayUser.fixed_count = shards
    opts.num_users = shards
    opts.spawn_rate = max(float(opts.spawn_rate or 1), 100.0 * shards)
    if isinstance(runner, MasterRunner):

        def on_done(msg: Any, **_: Any) -> None:
            _merge(msg.data.get("replay"))
            STATE.done_shards.add(str(msg.data.get("client_id")))
            if msg.data.get("error"):
                log.error("a worker cannot replay: %s", msg.data["error"])
                environment.process_exit_code = 2
                _finish(environment, force_quit=True)
            elif len(STATE.done_shards) >= STATE.shards:
                _finish(environment)

        runner.register_message("replay_done", on_done)


def on_test_start(environment: Any, **_: Any) -> None:
    runner = environment.runner
    STATE.finished = False
    if isinstance(runner, MasterRunner):
        workers = sorted(c.id for c in runner.clients.ready + runner.clients.running)
        STATE.shards = max(1, len(workers))
        STATE.done_shards = set()
        STATE.merged = None
        # travels to the workers inside the spawn message's parsed_options
        environment.parsed_options.replay_shards = {w: i for i, w in enumerate(workers)}
        trace = Path(environment.parsed_options.trace or "")
        if trace.is_file():  # the workers check their copy against it
            environment.parsed_options.replay_trace_bytes = trace.stat().st_size
        STATE.started = True
        STATE.stopped_at, STATE.quitting = None, False
        if environment.parsed_options.headless:  # in the web UI, stopping is the user's call
            gevent.spawn(_watch_workers, environment, workers)


def on_test_stop(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        STATE.stopped_at = time.monotonic()


def _watch_workers(environment: Any, workers: list[str]) -> None:
    """Master: end a replay that can no longer finish, instead of waiting for ``-t``.

    A shard's events come from its worker only. When that worker quits, dies (missing for
    ``MISSING_GRACE_S``: Locust itself forgets it only after a minute) or is stopped (Locust
    stops the test once every worker went missing) before its shard is done, the replay is
    incomplete: say which worker, exit 2, and write what was measured.
    """
    seen: set[str] = set()
    missing_since: dict[str, float] = {}
    while not STATE.quitting and len(STATE.done_shards) < STATE.shards:
        gevent.sleep(1)
        if STATE.quitting or len(STATE.done_shards) >= STATE.shards:
            return
        if STATE.stopped_at is not None:  # a quit (the end, -t) follows its stop at once
            problem = "Locust stopped the test" if time.monotonic() - STATE.stopped_at > 5 else ""
        else:
            waiting = [w for w in workers if w not in STATE.done_shards]
            problem = _lost_worker(environment.runner, waiting, seen, missing_since)
        if problem:
            log.error("cannot replay: %s before every shard was done", problem)
            environment.process_exit_code = 2
            environment.runner.quit()
            return


def _lost_worker(
    runner: Any, waiting: list[str], seen: set[str], missing_since: dict[str, float]
) -> str:
    """Why one of the ``waiting`` workers will never finish its shard, or ``""``."""
    for worker in waiting:
        node = runner.clients.get(worker)
        if node is None:
            return f"worker {worker} left"
        if node.state in (STATE_RUNNING, STATE_SPAWNING):
            seen.add(worker)
            missing_since.pop(worker, None)
        elif node.state == STATE_MISSING:
            since = missing_since.setdefault(worker, time.monotonic())
            if time.monotonic() - since > MISSING_GRACE_S:
                return f"worker {worker} sent no heartbeat for {MISSING_GRACE_S:g} s"
        elif worker in seen:  # back to ready or stopped: its replay was cut short
            return f"worker {worker} stopped"
    return ""


def on_report_to_master(client_id: str, data: dict[str, Any], **_: Any) -> None:
    if len(STATE.recorder):
        data["replay"] = STATE.recorder.take_unshipped()


def on_worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
    _merge(data.get("replay"))


def _merge(shipment: dict[str, Any] | None) -> None:
    if not shipment:
        return
    part = Recorder.from_shipment(shipment)
    if STATE.merged is None:
        STATE.merged = Recorder(origin_wall=part.origin_wall, origin_perf=0.0)
    STATE.merged.extend(part)


def on_quitting(environment: Any, **_: Any) -> None:
    STATE.quitting = True
    opts = environment.parsed_options
    if opts is None or isinstance(environment.runner, WorkerRunner):
        return
    is_master = isinstance(environment.runner, MasterRunner)
    if is_master and not STATE.started:  # e.g. the workers never all connected
        log.error("the replay never started: no %s written", SUMMARY_FILE)
        environment.process_exit_code = max(2, environment.process_exit_code or 0)
        return
    rec = (STATE.merged or Recorder()) if is_master else STATE.recorder
    summary = rec.summary()
    found = checks.evaluate(
        summary,
        p99_ms=opts.check_p99_ms,
        fail_ratio=opts.check_fail_ratio,
        eps=opts.check_eps,
        latency=opts.check_latency,
    )
    summary["checks"] = [check.as_dict() for check in found]
    summary["options"] = {
        "trace": opts.trace,
        "host": environment.host,
        "speed": opts.speed,
        "batch_size": opts.batch_size,
        "batch_interval": opts.batch_interval,
        "batch_scope": opts.batch_scope,
        "lanes": opts.lanes,
        "processes": STATE.shards if is_master else 1,
    }
    document = rounded(summary)
    _print_summary(document, found)
    if opts.replay_out:
        out = Path(opts.replay_out)
        out.mkdir(parents=True, exist_ok=True)
        (out / SUMMARY_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        write_series(out / SERIES_FILE, rec.series())
    code = checks.exit_code(found)
    if code is not None:  # an earlier error (2) outranks the checks
        environment.process_exit_code = max(code, environment.process_exit_code or 0)


def _print_summary(doc: dict[str, Any], found: list[checks.Check]) -> None:
    lat, sched, lag = doc["latency_ms"], doc["latency_from_schedule_ms"], doc["schedule_lag_ms"]
    lines = [
        f"hopsim replay: {doc['requests']} requests, {doc['events']} of "
        f"{doc['planned_events']} events accepted, {doc['failures']} failures, "
        f"{doc['rps']} req/s, {doc['events_per_second']} events/s",
        f"  latency ms           p50 {lat['p50']}  p95 {lat['p95']}  p99 {lat['p99']}  "
        f"max {lat['max']}",
        f"  from schedule ms     p50 {sched['p50']}  p95 {sched['p95']}  p99 {sched['p99']}  "
        f"max {sched['max']}",
        f"  schedule lag ms      p50 {lag['p50']}  p99 {lag['p99']}  (generator late)",
        f"  lane wait ms         p50 {doc['lane_wait_ms']['p50']}  p99 {doc['lane_wait_ms']['p99']}"
        "  (behind the lane's previous request)",
    ]
    lines += [f"  check {check.describe()}" for check in found]
    print("\n".join(lines), file=sys.stderr, flush=True)


hooks: Any = events  # Locust's EventHook.add_listener is untyped
hooks.init_command_line_parser.add_listener(add_options)
hooks.init.add_listener(on_init)
hooks.test_start.add_listener(on_test_start)
hooks.test_stop.add_listener(on_test_stop)
hooks.report_to_master.add_listener(on_report_to_master)
hooks.worker_report.add_listener(on_worker_report)
hooks.quitting.add_listener(on_quitting)
