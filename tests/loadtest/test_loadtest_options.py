"""`hopsim loadtest --master/--worker`: combinations that cannot work fail at once, naming the flag."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from loadtest.synthetic import write_trace
from sim.cli import main


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    return write_trace(tmp_path / "trace.jsonl.gz", events=10, devices=2, span_seconds=9.0)


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--worker", "--speed", "60"], "--speed: only the master takes"),
        (["--worker", "--speed", "1440"], "--speed: only the master takes"),  # the default too
        (["--worker", "--check-p99-ms", "250"], "--check-p99-ms: only the master takes"),
        (["--worker", "--host", "http://x:1"], "--host: only the master takes"),
        (["--worker", "--no-report"], "--no-report: only the master takes"),
        (["--worker", "--expect-workers", "2"], "--expect-workers: only the master takes"),
        (["--worker", "--connect-timeout", "0"], "--connect-timeout: expected seconds > 0"),
        (["--worker", "--master-port", "70000"], "--master-port: expected a TCP port"),
        (["--worker", "--master"], "--worker: not with --master"),
        (["--worker", "--processes", "0"], "--processes: expected a whole number >= 1"),
        (["TRACE", "--processes", "0"], "--processes: expected a whole number >= 1"),
        (["TRACE", "--master", "--expect-workers", "2", "--processes", "0"], "--processes: exp"),
        (["TRACE", "--master"], "--master: needs --expect-workers N"),
        (["TRACE", "--master", "--expect-workers", "0"], "--expect-workers: expected a whole"),
        (["TRACE", "--master", "--expect-workers", "2", "--processes", "2"], "--processes: not"),
        (
            ["TRACE", "--master", "--expect-workers", "1", "--expect-workers-max-wait", "0"],
            "--expect-workers-max-wait: expected seconds > 0",
        ),
        (
            ["TRACE", "--master", "--expect-workers", "2", "--master-bind-host", "10.0.0.1"],
            "--host: required with --master-bind-host 10.0.0.1",
        ),
        (["TRACE", "--expect-workers", "2"], "--expect-workers: only taken with --master"),
        (["TRACE", "--master-bind-port", "6000"], "--master-bind-port: only taken with --master"),
        (["TRACE", "--master-host", "10.0.0.1"], "--master-host: only taken with --worker"),
    ],
)
def test_a_bad_combination_is_refused_naming_the_flag(
    argv: list[str], named: str, trace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(trace) if a == "TRACE" else a for a in argv]
    assert main(["loadtest", *argv]) == 2
    assert named in capsys.readouterr().err


def test_a_worker_refuses_a_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["loadtest", "scenarios/day-in-the-life.toml", "--worker"]) == 2
    assert "a worker replays a trace, not a scenario" in capsys.readouterr().err


def test_a_worker_gives_up_on_an_unreachable_master_within_its_timeout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    began = time.monotonic()
    argv = ["loadtest", "--worker", "--master-port", str(port), "--connect-timeout", "1.5"]
    assert main(argv) == 2
    took = time.monotonic() - began
    assert 1.5 <= took < 10
    err = capsys.readouterr().err
    assert f"--master-host 127.0.0.1 --master-port {port}: no Locust master reachable" in err
