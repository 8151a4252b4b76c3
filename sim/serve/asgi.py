"""The few ASGI pieces the collector speaks by hand: types, headers, a bounded body read.

ASGI hands an app a ``scope`` (method, path, headers), a ``receive`` that
yields the body in chunks and a ``send`` for the answer. These helpers read
the headers once into a dict and the body up to a byte limit (413 past it),
so no request can make the server buffer more than the limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sim.serve.validate import RequestError

MAX_HEAD_BYTES = 32 * 1024  # request line plus headers (431 past it: sim/serve/protocol.py)
# Heads refused below the app (431 too large, 408 too slow), by status: /metrics adds them.
HEAD_REFUSALS: dict[int, int] = {431: 0, 408: 0}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Disconnected(Exception):
    """The client went away before its body arrived."""


def headers_of(scope: Scope) -> dict[bytes, str]:
    """The request headers, names lower-cased."""
    return {name.lower(): value.decode("latin-1") for name, value in scope["headers"]}


async def read_body(
    receive: Receive, headers: dict[bytes, str], limit: int, timeout: float | None = None
) -> bytes:
    """The whole body: 413 as soon as it is known to pass ``limit`` bytes, 408 past ``timeout``.

    The timeout covers the whole body, not each chunk, so a client trickling
    one byte a second cannot hold its place for longer than ``timeout``.
    """
    declared = headers.get(b"content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise RequestError(400, "invalid_request", "bad Content-Length") from None
        if size > limit:
            raise RequestError(413, "too_large", f"request body over {limit} bytes")
    try:
        async with asyncio.timeout(timeout):
            return await _read(receive, limit)
    except TimeoutError:
        raise RequestError(
            408, "timeout", f"request body not complete within {timeout:g} s"
        ) from None


async def _read(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk: bytes = message.get("body", b"")
        total += len(chunk)
        if total > limit:
            raise RequestError(413, "too_large", f"request body over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    extra: list[tuple[bytes, bytes]],
    head: bool = False,
) -> None:
    """One complete HTTP answer (``head``: the headers of ``body`` without the body)."""
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + extra})
    await send({"type": "http.response.body", "body": b"" if head else body})
