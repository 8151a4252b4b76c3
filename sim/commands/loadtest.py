"""``hopsim loadtest [SCENARIO|TRACE]``: replay a trace over HTTP with Locust.

With no ``--host`` it starts ``hopsim serve`` on a free loopback port with a
throw-away ``--data`` directory; given a scenario TOML it first simulates it
(``hopsim run``) into the run folder; then it runs ``loadtest/locustfile.py``
headless in a subprocess, stops everything and leaves ``loadtest.json``,
``loadtest_timeseries.csv``, Locust's CSV files and HTML report (and
``report.html``) in the run folder. The exit code is Locust's: non-zero when a
``--check-*`` threshold is missed.

Past one machine the same command runs once per host: ``--master
--expect-workers N`` on one (it plans nothing, merges the workers' samples and
writes the run folder exactly as above), ``--worker --master-host H`` on each
of the others (it replays the devices of its shard and prints nothing of its
own). Locust's master hands the replay options to the workers, so a worker
takes only where its master is, and optionally its own copy of the trace.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.errors import HopsimError

ROOT = Path(__file__).resolve().parent.parent.parent
LOCUSTFILE = ROOT / "loadtest" / "locustfile.py"
DEFAULT_SCENARIO = Path("scenarios/day-in-the-life.toml")
MASTER_PORT = 5557  # Locust's own default
# Only the master (or a single-process run) takes these: Locust sends them to the workers.
MASTER_ONLY = (
    "--speed", "--duration", "--host", "--out", "--write-key", "--lanes", "--batch-size",
    "--batch-interval", "--batch-scope", "--persons", "--days", "--check-p99-ms",
    "--check-fail-ratio", "--check-eps", "--check-latency", "--no-report",
)  # fmt: skip
ONLY_WITH_MASTER = (
    "--expect-workers", "--expect-workers-max-wait", "--master-bind-host", "--master-bind-port"
)  # fmt: skip
ONLY_WITH_WORKER = ("--master-host", "--master-port", "--connect-timeout")


class Given(argparse.Action):
    """Store an option's value like argparse does, and note that the user gave it.

    A worker refuses options only its master takes; whether ``--speed 1440`` was typed or
    is the default matters there, and a plain namespace cannot tell the two apart.
    """

    def __call__(
        self, parser: Any, namespace: Any, values: Any, option_string: str | None = None
    ) -> None:
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)
        namespace.given = (*getattr(namespace, "given", ()), option_string)


def flag(parser: Any, *names: str, **kwargs: Any) -> None:
    """``parser.add_argument`` that records the option as given (``store_true`` too)."""
    if kwargs.pop("action", None) == "store_true":
        kwargs.update(nargs=0, const=True, default=False)
    parser.add_argument(*names, action=Given, **kwargs)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "loadtest",
        help="replay a trace against a collector with Locust (open model, exact latencies)",
        description=(
            "Replay a trace (or simulate a scenario first) against a Segment-compatible "
            "collector with Locust; with no --host, against a private `hopsim serve`."
        ),
    )
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        default=None,
        help=f"scenario .toml or trace.jsonl.gz (default {DEFAULT_SCENARIO})",
    )
    flag(parser, "--speed", type=float, default=1440.0, help="time compression (1440)")
    flag(
        parser,
        "--duration",
        type=float,
        default=None,
        help="stop after SECONDS (default: end of trace)",
    )
    flag(parser, "--processes", type=int, default=1, help="Locust worker processes")
    flag(parser, "--host", default=None, help="collector URL (default: start hopsim serve)")
    flag(parser, "--out", type=Path, default=None, help="run folder (default reports/...)")
    flag(parser, "--write-key", default="", help="write key (HTTP Basic user)")
    flag(parser, "--lanes", type=int, default=32, help="sequential senders in total")
    flag(parser, "--batch-size", type=int, default=100, help="events per batch (100)")
    flag(parser, "--batch-interval", type=float, default=0.5, help="flush after (0.5 s)")
    flag(parser, "--batch-scope", choices=("device", "lane"), default="device")
    flag(parser, "--persons", type=int, default=None, help="scenario: population override")
    flag(parser, "--days", type=int, default=None, help="scenario: days override")
    flag(parser, "--check-p99-ms", type=float, default=None)
    flag(parser, "--check-fail-ratio", type=float, default=None)
    flag(parser, "--check-eps", type=float, default=None)
    flag(parser, "--check-latency", choices=("schedule", "send"), default="schedule")
    flag(parser, "--no-report", action="store_true", help="skip report.html")
    cluster = parser.add_argument_group(
        "past one machine",
        "one `hopsim loadtest --master` and N `hopsim loadtest --worker`s on any hosts; "
        "the trace is split by device over the workers",
    )
    flag(cluster, "--master", action="store_true", help="be the master of N workers")
    flag(cluster, "--expect-workers", type=int, default=None, metavar="N",
         help="master: start once N workers are connected")  # fmt: skip
    flag(cluster, "--expect-workers-max-wait", type=float, default=300.0, metavar="SECONDS",
         help="master: give up when the workers are not all there after this long (300)")  # fmt: skip
    flag(cluster, "--master-bind-host", default="127.0.0.1",
         help="master: address the workers connect to (127.0.0.1)")  # fmt: skip
    flag(cluster, "--master-bind-port", type=int, default=MASTER_PORT,
         help=f"master: port the workers connect to ({MASTER_PORT})")  # fmt: skip
    flag(cluster, "--worker", action="store_true",
         help="be a worker: replay one shard of the master's trace")  # fmt: skip
    flag(cluster, "--master-host", default="127.0.0.1", help="worker: the master's address")
    flag(cluster, "--master-port", type=int, default=MASTER_PORT, help="worker: its port")
    flag(cluster, "--connect-timeout", type=float, default=60.0, metavar="SECONDS",
         help="worker: give up when the master is not reachable after this long (60)")  # fmt: skip
    parser.set_defaults(func=handle, given=())


def handle(args: argparse.Namespace) -> int:
    check_options(args)
    if args.worker:
        return run_worker(args)
    source: Path = args.source or DEFAULT_SCENARIO
    if not source.exists():
        raise HopsimError(f"{source}: no such scenario or trace")
    scenario = source if source.suffix == ".toml" else None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = source.stem if scenario else "loadtest"
    out: Path = args.out or Path("reports") / f"{name}-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    trace = source if scenario is None else simulate(scenario, out, args.persons, args.days)
    span = trace_span(trace)
    with contextlib.ExitStack() as stack:
        host = args.host
        server_data = None
        if host is None:
            server_data = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="hopsim-lt-"))
            )
            host = stack.enter_context(serve(server_data, args.write_key, scenario, out))
        code = run_locust(args, trace, host, out, span)
        server = server_stats(host) if server_data is not None else None
    summary_path = out / "loadtest.json"
    log_text = (out / "locust.log").read_text(encoding="utf-8", errors="replace")
    if args.master and "Gave up waiting for workers" in log_text:
        raise HopsimError(
            f"--expect-workers {args.expect_workers}: not all workers connected to "
            f"{args.master_bind_host}:{args.master_bind_port} within "
            f"{args.expect_workers_max_wait:g} s (--expect-workers-max-wait)"
        )
    refusals = [line for line in log_text.splitlines() if "cannot replay: " in line]
    if refusals:  # a worker (or the one process) stopped before sending: say why
        raise HopsimError(refusals[0].split("cannot replay: ", 1)[1])
    if not summary_path.exists():
        tail = (out / "locust.log").read_text(encoding="utf-8", errors="replace")[-3000:]
        raise HopsimError(f"Locust wrote no loadtest.json (exit {code}); its log ends:\n{tail}")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    summary["exit_code"] = code
    if server is not None:
        summary["server"] = server
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print_summary(summary, out)
    if not args.no_report:
        report(out)
    return code


def check_options(args: argparse.Namespace) -> None:
    """Refuse values and combinations of options that cannot work, naming the option."""
    given = set(args.given)
    if args.master and args.worker:
        raise HopsimError("--worker: not with --master; a process is one or the other")
    if args.processes < 1:  # every role: a worker runs them, a lone replay starts them
        raise HopsimError("--processes: expected a whole number >= 1")
    if args.worker:
        check_worker(args, given)
        return
    for option in ONLY_WITH_WORKER + (() if args.master else ONLY_WITH_MASTER):
        if option in given:
            role = "--worker" if option in ONLY_WITH_WORKER else "--master"
            raise HopsimError(f"{option}: only taken with {role}")
    if args.speed <= 0:
        raise HopsimError("--speed: expected a number > 0")
    if args.duration is not None and args.duration <= 0:
        raise HopsimError("--duration: expected seconds > 0")
    if args.master:
        check_master(args, given)


def check_master(args: argparse.Namespace, given: set[str]) -> None:
    if args.expect_workers is None:
        raise HopsimError("--master: needs --expect-workers N, the number of workers to wait for")
    if args.expect_workers < 1:
        raise HopsimError(
            f"--expect-workers: expected a whole number >= 1, got {args.expect_workers}"
        )
    if "--processes" in given:
        raise HopsimError(
            "--processes: not with --master; its workers are the processes "
            "(a --worker takes --processes to run several on its host)"
        )
    if args.expect_workers_max_wait <= 0:
        raise HopsimError("--expect-workers-max-wait: expected seconds > 0")
    check_port("--master-bind-port", args.master_bind_port)
    if args.host is None and not is_loopback(args.master_bind_host):
        raise HopsimError(
            f"--host: required with --master-bind-host {args.master_bind_host}: without it the "
            "master starts a private hopsim serve on 127.0.0.1, which workers on other hosts "
            "cannot reach"
        )


def check_worker(args: argparse.Namespace, given: set[str]) -> None:
    for option in MASTER_ONLY + ONLY_WITH_MASTER:
        if option in given:
            raise HopsimError(
                f"{option}: only the master takes this option (Locust sends the master's replay "
                "options to every worker); drop it from the --worker command"
            )
    source: Path | None = args.source
    if source is not None and source.suffix == ".toml":
        raise HopsimError(
            f"{source}: a worker replays a trace, not a scenario; give it its copy of the "
            "master's trace, or nothing to read the trace at the master's path"
        )
    if source is not None and not source.exists():
        raise HopsimError(f"{source}: no such trace")
    if args.connect_timeout <= 0:
        raise HopsimError("--connect-timeout: expected seconds > 0")
    check_port("--master-port", args.master_port)


def check_port(option: str, port: int) -> None:
    if not 0 < port < 65536:
        raise HopsimError(f"{option}: expected a TCP port 1-65535, got {port}")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_worker(args: argparse.Namespace) -> int:
    """One Locust worker (``--processes``: several) for the master at ``--master-host``.

    It waits for the master's port to accept connections, at most ``--connect-timeout``
    seconds (Locust's own worker would retry for five minutes, quietly), then runs in the
    foreground until its master quits; its exit code is Locust's.
    """
    wait_for_master(args.master_host, args.master_port, args.connect_timeout)
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker"]
    command += ["--master-host", args.master_host, "--master-port", str(args.master_port)]
    if args.processes > 1:
        command += ["--processes", str(args.processes)]
    if args.source is not None:
        command += ["--trace", str(args.source.resolve())]
    process = subprocess.Popen(command, env=locust_env())
    # A service manager stops a worker with SIGTERM: pass it on, so Locust's worker tells
    # its master it is leaving instead of living on without the command that started it.
    previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    except BaseException:
        stop(process)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def wait_for_master(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            left = max(0.1, min(2.0, deadline - time.monotonic()))
            with socket.create_connection((host, port), timeout=left):
                return
        except OSError as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                reason = exc.strerror or str(exc)
                raise HopsimError(
                    f"--master-host {host} --master-port {port}: no Locust master reachable "
                    f"within {timeout:g} s ({reason}); start `hopsim loadtest --master` first "
                    "or raise --connect-timeout"
                ) from None
            time.sleep(min(0.5, left))


def simulate(scenario: Path, out: Path, persons: int | None, days: int | None) -> Path:
    command = [sys.executable, "-m", "sim.cli", "run", str(scenario), "--out", str(out)]
    command += ["--no-report", "--quiet"]
    if persons is not None:
        command += ["--persons", str(persons)]
    if days is not None:
        command += ["--days", str(days)]
    done = subprocess.run(command, check=False)
    trace = out / "trace.jsonl.gz"
    if done.returncode != 0 or not trace.exists():
        raise HopsimError(f"{scenario}: simulation failed (exit {done.returncode})")
    return trace


def trace_span(trace: Path) -> float:
    """Simulated seconds from the first to the last event (the trace is sorted)."""
    from sim.trace.clock import epoch_seconds
    from sim.trace.reader import iter_lines

    first = last = b""
    for _, line in iter_lines(trace):
        first = first or line
        last = line
    if not first:
        raise HopsimError(f"{trace}: empty trace")
    try:
        stamps = [epoch_seconds(json.loads(x)["timestamp"]) for x in (first, last)]
    except (ValueError, KeyError, TypeError) as exc:
        raise HopsimError(f"{trace}: not a hopsim trace: {exc}") from None
    return stamps[1] - stamps[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(data: Path, write_key: str, scenario: Path | None, out: Path) -> Any:
    """``hopsim serve`` on a free loopback port for the duration of the block."""
    port = free_port()
    command = [sys.executable, "-m", "sim.cli", "serve", "--port", str(port)]
    command += ["--data", str(data)]
    if write_key:
        command += ["--write-key", write_key]
    if scenario is not None:
        command += ["--scenario", str(scenario)]
    log = (out / "serve.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    host = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(host, process)
        yield host
    finally:
        stop(process)
        log.close()


def wait_healthy(host: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HopsimError(f"hopsim serve exited with {process.returncode} (see serve.log)")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{host}/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise HopsimError(f"hopsim serve did not become healthy within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_stats(host: str) -> dict[str, Any] | None:
    import httpx

    try:
        stats: dict[str, Any] = httpx.get(f"{host}/v1/stats", timeout=5.0).json()
    except (httpx.HTTPError, ValueError):
        return None
    return stats


def locust_command(args: argparse.Namespace, trace: Path, host: str, out: Path) -> list[str]:
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    command += ["--host", host, "--trace", str(trace), "--speed", repr(args.speed)]
    command += ["--lanes", str(args.lanes), "--batch-size", str(args.batch_size)]
    command += ["--batch-interval", repr(args.batch_interval), "--batch-scope", args.batch_scope]
    command += ["--replay-out", str(out), "--csv", str(out / "locust"), "--csv-full-history"]
    command += ["--html", str(out / "locust.html"), "--only-summary"]
    if args.write_key:
        command += ["--write-key", args.write_key]
    if args.duration is not None:
        command += ["-t", f"{args.duration:g}s"]
    if args.master:
        command += ["--master", "--expect-workers", str(args.expect_workers)]
        command += ["--expect-workers-max-wait", f"{args.expect_workers_max_wait:g}"]
        command += ["--master-bind-host", args.master_bind_host]
        command += ["--master-bind-port", str(args.master_bind_port)]
    elif args.processes > 1:
        # Locust's master listens on 5557 unless told otherwise: a free loopback port lets
        # two replays (or two CI jobs) on one machine run side by side.
        port = str(free_port())
        command += ["--processes", str(args.processes), "--master-bind-host", "127.0.0.1"]
        command += ["--master-bind-port", port]
        command += ["--master-port", port]
    for option in ("check_p99_ms", "check_fail_ratio", "check_eps"):
        value = getattr(args, option)
        if value is not None:
            command += [f"--{option.replace('_', '-')}", repr(value)]
    command += ["--check-latency", args.check_latency]
    return command


def run_locust(args: argparse.Namespace, trace: Path, host: str, out: Path, span: float) -> int:
    command = locust_command(args, trace, host, out)
    # the replay quits by itself at the end of the trace; this is only a safety net
    limit = (args.duration or span / args.speed) + 120.0
    if args.master:
        limit += args.expect_workers_max_wait
    with (out / "locust.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=locust_env())
        try:
            return process.wait(limit)
        except subprocess.TimeoutExpired:
            stop(process)
            raise HopsimError(f"Locust did not finish within {limit:.0f} s; stopped it") from None
        except BaseException:
            stop(process)
            raise


def locust_env() -> dict[str, str]:
    """This environment, with the repository on ``PYTHONPATH`` for ``import loadtest``."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def print_summary(summary: dict[str, Any], out: Path) -> None:
    lat, sched = summary["latency_ms"], summary["latency_from_schedule_ms"]
    lag = summary["schedule_lag_ms"]
    print(
        f"{summary['requests']:,} requests, {summary['events']:,} of "
        f"{summary.get('planned_events', 0):,} events, {summary['failures']:,} failures; "
        f"{summary['rps']:,.1f} req/s, {summary['events_per_second']:,.1f} events/s"
    )
    print(
        f"latency p50/p99 {lat['p50']}/{lat['p99']} ms; from schedule "
        f"{sched['p50']}/{sched['p99']} ms; schedule lag p99 {lag['p99']} ms; "
        f"lane wait p99 {summary.get('lane_wait_ms', {}).get('p99')} ms"
    )
    for check in summary.get("checks", []):
        verdict = "ok" if check["ok"] else "FAILED"
        print(f"check {check['name']}: {check['value']} (target {check['target']}) {verdict}")
    print(f"run folder: {out}")


def report(out: Path) -> None:
    try:
        from sim import report as report_module
    except ImportError:
        return
    build = getattr(report_module, "build_report", None)
    if build is None:
        return
    try:
        print(f"report: {build(out)}")
    except Exception as exc:  # the load test's result stands even if the report fails
        print(f"hopsim loadtest: report.html not built: {exc}", file=sys.stderr)
