"""uvicorn's httptools protocol with a bound on request heads: 431 past the limit, 408 when slow.

The ASGI app sees a request only once its headers are complete, so a 100 MB
header line (or a client that sends half a header and stops) never reaches
it: the parser keeps buffering below it. This protocol counts the bytes of
each request head (request line plus headers, up to the blank line) as they
arrive, answers 431 and closes the connection once they pass
``MAX_HEAD_BYTES``, and closes with 408 a connection whose head is not
complete ``head_timeout`` seconds after it began.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from sim.serve.asgi import HEAD_REFUSALS, MAX_HEAD_BYTES

HEAD_TIMEOUT_SECONDS = 10.0
_END = b"\r\n\r\n"


def _answer(status: int, reason: str, message: str) -> bytes:
    body = orjson.dumps(
        {"success": False, "code": "header_too_large" if status == 431 else "timeout",
         "message": message, "errors": []}
    )  # fmt: skip
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class BoundedHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc]
    """``HttpToolsProtocol`` that refuses oversized (431) and stalled (408) request heads."""

    head_timeout = HEAD_TIMEOUT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._tail = b""
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and self._head_bytes and not self.transport.is_closing():
            self._refuse(408, "Request Timeout", "request head not complete in time")
        elif self._in_head and not self.transport.is_closing() and self.cycle is None:
            self.transport.close()  # connected and silent: nothing to answer

    def _refuse(self, status: int, reason: str, message: str) -> None:
        HEAD_REFUSALS[status] += 1
        self.transport.write(_answer(status, reason, message))
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            seen = self._tail + data
            end = seen.find(_END)
            self._head_bytes += len(data) if end < 0 else max(0, end + len(_END) - len(self._tail))
            self._tail = seen[-3:]
            if self._head_bytes > MAX_HEAD_BYTES:
                self._in_head = False
                self._disarm()
                self._refuse(431, "Request Header Fields Too Large",
                             f"request line and headers over {MAX_HEAD_BYTES} bytes")  # fmt: skip
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0
        self._tail = b""

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._in_head and not self.transport.is_closing():
            self._arm()
