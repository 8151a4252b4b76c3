"""BENCHMARK ONLY: ``hopsim serve`` plus a parse-only ``POST /bench/parse``.

The anchor the HTTP benchmarks measure the product against. ``/bench/parse``
reads, decodes and parses a body exactly as ingest does, counts its events
and answers, storing nothing; every other path goes to the real app, so both
endpoints share one process, one event loop and one HTTP parser and their
ratio is about the store, not the machine.

    python -m benchmarks.parse_server --port 8089 --data /tmp/d [hopsim serve options]
"""

from __future__ import annotations

import argparse
import sys

import orjson

from sim.commands import serve
from sim.serve import validate
from sim.serve.app import HopsimApp
from sim.serve.asgi import Disconnected, Receive, Scope, Send, headers_of, read_body, respond
from sim.serve.validate import RequestError

PATH = "/bench/parse"
JSON = b"application/json"


class ParseBench:
    """An ASGI app answering ``/bench/parse`` itself and handing the rest to ``app``."""

    def __init__(self, app: HopsimApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        try:
            status, body = 200, await self.parse(scope, receive)
        except RequestError as exc:
            status, body = exc.status, orjson.dumps(exc.body())
        except Disconnected:
            return
        await respond(send, status, body, JSON, [])

    @staticmethod
    async def parse(scope: Scope, receive: Receive) -> bytes:
        """Decode, parse and count; store nothing."""
        headers = headers_of(scope)
        raw = await read_body(receive, headers, validate.MAX_BATCH_BYTES)
        body = validate.decode_body(raw, headers.get(b"content-encoding"))
        doc = validate.parse_json(body)
        items = doc.get("batch") if isinstance(doc, dict) else None
        count = len(items) if isinstance(items, list) else 1
        return orjson.dumps({"success": True, "count": count})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.parse_server")
    serve.register(parser.add_subparsers())
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    return serve.run_server(ParseBench(serve.build(args)), args)


if __name__ == "__main__":
    raise SystemExit(main())
