"""``hopsim loadtest [SCENARIO|TRACE]``: replay a trace over HTTP with Locust.

With no ``--host`` it starts ``hopsim serve`` on a free loopback port with a
throw-away ``--data`` directory; given a scenario TOML it first simulates it
(``hopsim run``) into the run folder; then it runs ``loadtest/locustfile.py``
headless in a subprocess, stops everything and leaves ``loadtest.json``,
``loadtest_timeseries.csv``, Locust's CSV files and HTML report (and
``report.html``) in the run folder. The exit code is Locust's: non-zero when a
``--check-*`` threshold is missed.
"""

from __future__ import annotations

import argparse
import contextlib
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
    parser.add_argument("--speed", type=float, default=1440.0, help="time compression (1440)")
    parser.add_argument(
        "--duration", type=float, default=None, help="stop after SECONDS (default: end of trace)"
    )
    parser.add_argument("--processes", type=int, default=1, help="Locust worker processes")
    parser.add_argument("--host", default=None, help="collector URL (default: start hopsim serve)")
    parser.add_argument("--out", type=Path, default=None, help="run folder (default reports/...)")
    parser.add_argument("--write-key", default="", help="write key (HTTP Basic user)")
    parser.add_argument("--lanes", type=int, default=32, help="sequential senders in total")
    parser.add_argument("--batch-size", type=int, default=100, help="events per batch (100)")
    parser.add_argument("--batch-interval", type=float, default=0.5, help="flush after (0.5 s)")
    parser.add_argument("--batch-scope", choices=("device", "lane"), default="device")
    parser.add_argument("--persons", type=int, default=None, help="scenario: population override")
    parser.add_argument("--days", type=int, default=None, help="scenario: days override")
    parser.add_argument("--check-p99-ms", type=float, default=None)
    parser.add_argument("--check-fail-ratio", type=float, default=None)
    parser.add_argument("--check-eps", type=float, default=None)
    parser.add_argument("--check-latency", choices=("schedule", "send"), default="schedule")
    parser.add_argument("--no-report", action="store_true", help="skip report.html")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    if args.speed <= 0:
        raise HopsimError("--speed: expected a number > 0")
    if args.processes < 1:
        raise HopsimError("--processes: expected a whole number >= 1")
    if args.duration is not None and args.duration <= 0:
        raise HopsimError("--duration: expected seconds > 0")
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
    if args.processes > 1:
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
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    with (out / "locust.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            return process.wait(limit)
        except subprocess.TimeoutExpired:
            stop(process)
            raise HopsimError(f"Locust did not finish within {limit:.0f} s; stopped it") from None
        except BaseException:
            stop(process)
            raise


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
