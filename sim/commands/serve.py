"""``hopsim serve``: the engine as a Segment-compatible HTTP collector.

One process, one event loop: uvicorn speaks HTTP, :mod:`sim.serve.app`
validates and de-duplicates, the append-only log under ``--data`` makes each
acknowledged event durable before the 200 goes out, and the engine is rebuilt
from that log on every start. SIGTERM or SIGINT stops accepting, lets the
requests inside finish and flushes the log.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import HopsimError

if TYPE_CHECKING:
    from sim.engine.identity import IdentityConfig
    from sim.engine.messaging import Messenger
    from sim.serve.app import HopsimApp


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the engine as a Segment-compatible HTTP collector",
        description=(
            "Serve the Segment HTTP Tracking API (/v1/batch, /v1/track, ...) over the "
            "in-process engine, with a durable embedded log under --data."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    parser.add_argument("--port", type=int, default=8088, help="TCP port (default 8088)")
    parser.add_argument(
        "--write-key", default=None, help="required write key (default: accept any key)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("hopsim-data"),
        help="directory of the durable event log (default ./hopsim-data)",
    )
    parser.add_argument(
        "--scenario", type=Path, default=None, help="scenario TOML; its [identity] table is used"
    )
    parser.add_argument(
        "--max-inflight",
        type=int,
        default=64,
        help="ingest requests inside the server before answering 429 (default 64)",
    )
    parser.add_argument(
        "--http",
        choices=("auto", "h11", "httptools"),
        default="auto",
        help="HTTP parser (auto: httptools when installed)",
    )
    parser.add_argument(
        "--read-key",
        default=None,
        help="key for /v1/profiles, /v1/identity, /v1/messages (the write key opens them too; "
        "with neither set they are open)",
    )
    parser.add_argument(
        "--keep-raw-traits",
        action="store_true",
        help="store emails, phones and IPs as sent (default: HMAC under DIR/secret.key)",
    )
    parser.add_argument(
        "--max-guests",
        type=int,
        default=64,
        help="requests without a key in the header read at once to find it in the body "
        "(default 64; they never hold an ingest slot)",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=10.0,
        help="seconds for a request's head, and again for its body, before 408 (default 10)",
    )
    parser.add_argument(
        "--dedup-ids",
        type=int,
        default=1_000_000,
        help="messageIds the de-duplication window remembers at least (default 1000000)",
    )
    parser.add_argument(
        "--dedup-hours",
        type=float,
        default=24.0,
        help="hours of event time the de-duplication window covers at least (default 24)",
    )
    parser.add_argument("--log-level", default="warning", help="uvicorn log level")
    parser.set_defaults(func=serve)


def load_engine_parts(scenario: Path | None) -> tuple[IdentityConfig | None, Messenger | None]:
    """``(identity config, messaging)`` from the scenario TOML (``(None, None)`` without one).

    A file with ``[[campaigns]]`` or ``[[journeys]]`` is loaded as a whole scenario (its start
    date ties messaging to the calendar); one with only ``[identity]`` is
    read for that table alone.
    """
    if scenario is None:
        return None, None
    import tomllib

    from sim.engine.engine import load_identity_config

    try:
        data = tomllib.loads(scenario.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise HopsimError(f"{scenario}: cannot read scenario: {exc}") from None
    table = data.get("identity", {})
    if not isinstance(table, dict):
        raise HopsimError(f"{scenario}: [identity] must be a table")
    if not data.get("campaigns") and not data.get("journeys"):
        return load_identity_config(table, f"{scenario}"), None
    from sim.engine.messaging import build_messaging
    from sim.world.scenario import load_scenario

    full = load_scenario(scenario)
    messaging = build_messaging(full.campaigns, str(scenario), full.journeys, full.programme)
    if messaging is not None:
        messaging.bind_start(full.start)
    return load_identity_config(dict(full.identity), f"{scenario}"), messaging


def build(args: argparse.Namespace) -> HopsimApp:
    """The app ``hopsim serve`` runs for these arguments (an Engine over ``--data``)."""
    from sim.engine.engine import Engine
    from sim.serve.app import AppConfig, HopsimApp

    config = AppConfig(
        write_key=args.write_key,
        max_inflight=args.max_inflight,
        max_guests=args.max_guests,
        body_timeout_seconds=args.body_timeout,
        read_key=args.read_key,
        keep_raw_traits=args.keep_raw_traits,
        dedup_max_ids=args.dedup_ids,
        dedup_window_seconds=args.dedup_hours * 3600.0,
        freeze_gc=True,
    )
    identity_config, messaging = load_engine_parts(args.scenario)
    return HopsimApp(Engine(identity_config, messaging=messaging), args.data, config)


def http_protocol(choice: str, head_timeout: float) -> Any:
    """The HTTP protocol: httptools with bounded request heads (431/408), or h11 by name.

    h11 has its own head limit (``h11_max_incomplete_event_size``, set to the
    same size), answered 400 by uvicorn.
    """
    if choice == "h11":
        return "h11"
    try:
        from sim.serve.protocol import BoundedHttpToolsProtocol
    except ImportError:  # httptools is not installed
        if choice == "httptools":
            raise HopsimError("--http httptools: httptools is not installed") from None
        return "h11"

    class Protocol(BoundedHttpToolsProtocol):
        pass

    Protocol.head_timeout = head_timeout
    return Protocol


def run_server(app: Any, args: argparse.Namespace) -> int:
    """Serve the ASGI ``app`` with uvicorn on ``--host``/``--port`` until SIGTERM or SIGINT."""
    import uvicorn

    from sim.serve.asgi import MAX_HEAD_BYTES

    # Requests hold their parsed events until the fsync returns, long enough to
    # be promoted out of the young generation; with the default thresholds the
    # collector then walks the whole engine graph many times a second.
    gc.set_threshold(50_000, 50, 100)
    logging.basicConfig(level=logging.INFO, format="hopsim serve: %(message)s", stream=sys.stderr)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            http=http_protocol(args.http, args.body_timeout),
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            lifespan="on",
            access_log=False,
            log_level=args.log_level,
            timeout_graceful_shutdown=10,
            server_header=False,
        )
    )
    server.run()
    if not server.started:
        raise HopsimError(f"could not start on {args.host}:{args.port} with --data {args.data}")
    return 0


def serve(args: argparse.Namespace) -> int:
    return run_server(build(args), args)
