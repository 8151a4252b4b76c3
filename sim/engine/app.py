"""``hopsim serve`` over ASGI: a Segment-compatible collector around one Engine.

The app is a doorman with a ledger. At the door (``/v1/batch``, ``/v1/track``
and friends) it checks capacity first (429 with ``Retry-After`` when too many
requests are already inside), then the label (content type, size, write
key), then every item (:mod:`sim.engine.validate`). A clean request is
de-duplicated by ``messageId`` and handed to the :class:`~sim.engine.store.Store`;
the answer 200 ``{"success": true}`` goes out only after the ``fsync`` that
covers it. The engine reads the same durable frames a moment later, in log
order, when the door is quiet, so a burst costs parsing and fsync only and a
restart that replays the log rebuilds exactly the same state.

The read side (profiles, identity look-up, messages, stats, metrics, health,
OpenAPI) first lets the engine catch up with the log, then reads it. The app
is a raw ASGI callable, no router: a dict lookup per request, measured faster
than Starlette's router for this hot path (see docs/serve.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import orjson

from sim.engine import validate
from sim.engine.engine import IDENTIFIER_KINDS, Engine
from sim.engine.store import Recovery, Store, StoreError
from sim.engine.validate import RequestError

log = logging.getLogger("hopsim.serve")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

INGEST_PATHS = {
    "/v1/batch": None,
    **{f"/v1/{kind}": kind for kind in validate.SINGLE_TYPES},
}
READ_PATHS = ("/v1/identity", "/v1/messages", "/v1/stats", "/healthz", "/metrics", "/openapi.json")
BENCH_PATH = "/bench/parse"
JSON = b"application/json"
SUCCESS = b'{"success":true}'


@dataclass(frozen=True)
class AppConfig:
    """Knobs of one server: the write key (None accepts any), capacity, extras."""

    write_key: str | None = None
    max_inflight: int = 64
    retry_after_seconds: int = 1
    bench_endpoints: bool = False
    tick_seconds: float = 1.0
    max_engine_lag_bytes: int = 1024 * 1024 * 1024
    quiet_seconds: float = 0.05
    freeze_gc: bool = False  # after recovery, move the rebuilt engine out of GC's sight


class Disconnected(Exception):
    """The client went away before its body arrived."""


class HopsimApp:
    """The ASGI callable. ``async with app.running():`` when no server runs lifespan."""

    def __init__(self, engine: Engine, data_dir: Path, config: AppConfig | None = None) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self.config = config or AppConfig()
        self.store: Store | None = None
        self.recovery: Recovery | None = None
        self.inflight = 0
        self.last_ingest = 0.0
        self.events_duplicate = 0
        self.events_rejected = 0
        self.requests: Counter[tuple[str, int]] = Counter()
        self.started = time.time()
        self._ticker: asyncio.Task[None] | None = None
        self._applier: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------

    async def startup(self) -> None:
        """Open the store, replay it into the engine, start group commit and the ticker."""
        store = Store(self.data_dir, self.engine.ingest_many)
        self.recovery = store.recover()
        if self.config.freeze_gc:
            gc.collect()
            gc.freeze()
        store.start()
        self.store = store
        self._applier = asyncio.get_running_loop().create_task(self._apply_forever())
        if self.engine.messaging is not None:
            self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())
        log.info("store recovered: %s", self.recovery)

    async def shutdown(self) -> None:
        """Flush every queued write and close the log."""
        for task in (self._ticker, self._applier):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.store is not None:
            await self.store.close()
            self.store = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[HopsimApp]:
        await self.startup()
        try:
            yield self
        finally:
            await self.shutdown()

    async def _tick_forever(self) -> None:
        """Ask the messaging component what is due, in *event time*.

        ``now`` is the newest event timestamp seen, in the messenger's own
        scenario seconds, so a replayed trace (a day in a minute) gets its
        messages on the trace's clock, not the wall clock.
        """
        while True:
            await asyncio.sleep(self.config.tick_seconds)
            self.catch_up()
            now = self.engine_now()
            if now is not None:
                self.engine.tick(now)

    def engine_now(self) -> float | None:
        stamp = self.engine.latest_timestamp
        clock = getattr(self.engine.messaging, "clock", None)
        seconds = getattr(clock, "seconds", None)
        if not stamp or seconds is None:
            return None
        try:
            return float(seconds(stamp))
        except ValueError:
            return None

    async def _apply_forever(self) -> None:
        """Feed the engine from the log when the door is quiet (or the lag grows).

        Ingest answers as soon as a request is durable; the engine reads the
        same frames later, in slices, once no ingest request has arrived for
        ``quiet_seconds`` (or unconditionally past half the lag bound). Past
        the whole bound, ingest answers 429 until the engine has caught up.
        Reads never see a lagging engine: they call :meth:`catch_up` first.
        """
        store = self.store
        assert store is not None
        half = self.config.max_engine_lag_bytes // 2
        quiet = self.config.quiet_seconds
        while True:
            await asyncio.sleep(quiet)
            while store.lag_bytes and (
                time.monotonic() - self.last_ingest >= quiet or store.lag_bytes > half
            ):
                store.apply_pending(max_bytes=128 * 1024)
                await asyncio.sleep(0)

    def catch_up(self) -> None:
        """Read barrier: apply every durable frame, so reads see every acknowledged event."""
        if self.store is not None:
            self.store.apply_pending()

    # -- ASGI ----------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        route = path
        try:
            if path in INGEST_PATHS or (path == BENCH_PATH and self.config.bench_endpoints):
                if method != "POST":
                    raise _method_not_allowed("POST")
                if path == BENCH_PATH:
                    status, body, ctype, extra = await self._bench_parse(scope, receive)
                else:
                    status, body, ctype, extra = await self._ingest(
                        scope, receive, INGEST_PATHS[path]
                    )
            elif path in READ_PATHS or path.startswith("/v1/profiles/"):
                if method not in ("GET", "HEAD"):
                    raise _method_not_allowed("GET, HEAD")
                route = "/v1/profiles/{profile_id}" if path.startswith("/v1/profiles/") else path
                status, body, ctype, extra = self._read(path, scope)
            else:
                route = "other"
                raise RequestError(404, "not_found", f"no route {path}")
        except RequestError as exc:
            status, body, ctype = exc.status, orjson.dumps(exc.body()), JSON
            extra = [(b"allow", exc.message.encode())] if exc.status == 405 else []
            if exc.status == 405:
                body = orjson.dumps({**exc.body(), "message": f"{method} not allowed"})
        except Disconnected:
            return
        self.requests[(route, status)] += 1
        headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers + extra})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})

    # -- write side ----------------------------------------------------------

    async def _ingest(
        self, scope: Scope, receive: Receive, kind: str | None
    ) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        store = self.store
        if (
            store is None
            or self.inflight >= self.config.max_inflight
            or store.lag_bytes > self.config.max_engine_lag_bytes
        ):
            retry = str(self.config.retry_after_seconds).encode()
            error = RequestError(429, "rate_limited", "server at capacity; retry after a pause")
            return 429, orjson.dumps(error.body()), JSON, [(b"retry-after", retry)]
        self.inflight += 1
        self.last_ingest = time.monotonic()
        try:
            return await self._ingest_inside(scope, receive, kind)
        except RequestError as exc:
            self.events_rejected += exc.items
            raise
        finally:
            self.inflight -= 1

    async def _ingest_inside(
        self, scope: Scope, receive: Receive, kind: str | None
    ) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        headers = _headers(scope)
        validate.check_content_type(headers.get(b"content-type"))
        header_key = validate.basic_auth_user(headers.get(b"authorization"))
        wanted = self.config.write_key
        if wanted is not None and header_key is not None and header_key != wanted:
            raise RequestError(401, "unauthorized", "wrong write key")
        limit = validate.MAX_BATCH_BYTES if kind is None else 2 * validate.MAX_EVENT_BYTES
        raw = await _read_body(receive, headers, limit)
        body = validate.decode_body(raw, headers.get(b"content-encoding"), limit)
        doc = validate.parse_json(body)
        if wanted is not None and header_key is None and validate.body_write_key(doc) != wanted:
            raise RequestError(401, "unauthorized", "missing or wrong write key")
        batch = validate.build_batch(doc, kind)
        store = self.store
        if store is None:  # shutting down while this request was read
            raise RequestError(429, "rate_limited", "server is shutting down")
        fresh, payload = store.admit(batch.events, batch.encoded)
        self.events_duplicate += len(batch.events) - len(fresh)
        # Free the parsed request now, while it is hot in the cache: only the
        # ids and the frame bytes need to wait for the fsync (measured: freeing
        # 100 cold events after the wait cost as much as parsing them).
        del raw, body, doc, batch
        try:
            await store.commit(fresh, payload)
        except StoreError as exc:
            log.error("store refused a write: %s", exc)
            retry = str(self.config.retry_after_seconds).encode()
            error = RequestError(503, "unavailable", "storage unavailable; retry later")
            return 503, orjson.dumps(error.body()), JSON, [(b"retry-after", retry)]
        return 200, SUCCESS, JSON, []

    async def _bench_parse(
        self, scope: Scope, receive: Receive
    ) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        """BENCHMARK ONLY (``--bench-endpoints``): decode, count, answer; stores nothing."""
        headers = _headers(scope)
        raw = await _read_body(receive, headers, validate.MAX_BATCH_BYTES)
        body = validate.decode_body(raw, headers.get(b"content-encoding"))
        doc = validate.parse_json(body)
        items = doc.get("batch") if isinstance(doc, dict) else None
        count = len(items) if isinstance(items, list) else 1
        return 200, orjson.dumps({"success": True, "count": count}), JSON, []

    # -- read side -----------------------------------------------------------

    def _read(self, path: str, scope: Scope) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        engine = self.engine
        if path not in ("/healthz", "/metrics", "/openapi.json"):
            self.catch_up()
        if path.startswith("/v1/profiles/"):
            profile_id = path.removeprefix("/v1/profiles/")
            profile = engine.profile(profile_id)
            if profile is None:
                raise RequestError(404, "not_found", f"no profile {profile_id!r}")
            return 200, orjson.dumps(profile.as_json(), default=str), JSON, []
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if path == "/v1/identity":
            given = [(k, v) for k, v in query.items() if k in IDENTIFIER_KINDS and v]
            if len(given) != 1:
                raise RequestError(
                    400,
                    "invalid_request",
                    "give exactly one of anonymousId, userId, deviceId",
                    [
                        validate.ItemError(
                            -1, "query", "exactly one of " + ", ".join(IDENTIFIER_KINDS)
                        )
                    ],
                )
            kind, value = given[0]
            found = engine.lookup(kind, value)
            if found is None:
                raise RequestError(404, "not_found", f"no profile holds {kind} {value!r}")
            doc = {"kind": kind, "value": value, "profile_id": found.profile_id}
            doc["profile"] = found.as_json()
            return 200, orjson.dumps(doc, default=str), JSON, []
        if path == "/v1/messages":
            wanted_id = query.get("profile_id")
            if not wanted_id:
                raise RequestError(
                    400,
                    "invalid_request",
                    "profile_id is required",
                    [validate.ItemError(-1, "profile_id", "a profile id")],
                )
            messages = engine.messages(wanted_id)
            doc = {"profile_id": wanted_id, "messages": messages}
            return 200, orjson.dumps(doc, default=_jsonable), JSON, []
        if path == "/v1/stats":
            return 200, orjson.dumps(self.stats()), JSON, []
        if path == "/healthz":
            ok = self.store is not None
            body = orjson.dumps({"status": "ok" if ok else "starting"})
            return (200 if ok else 503), body, JSON, []
        if path == "/metrics":
            return 200, self.metrics().encode(), b"text/plain; version=0.0.4; charset=utf-8", []
        return 200, orjson.dumps(openapi(self.config.bench_endpoints)), JSON, []

    def stats(self) -> dict[str, Any]:
        """The counters of ``/v1/stats``; accepted counts survive restarts (from the log)."""
        store = self.store
        engine_stats = self.engine.stats()
        return {
            "events_accepted": store.events_stored if store else 0,
            "events_applied": store.events_applied if store else 0,
            "engine_lag_bytes": store.lag_bytes if store else 0,
            "events_duplicate": self.events_duplicate,
            "events_rejected": self.events_rejected,
            "profiles": engine_stats["profiles"],
            "events_by_type": engine_stats["events_by_type"],
            "inflight": self.inflight,
            "store_commits": store.commits if store else 0,
            "store_commit_seconds": round(store.commit_seconds, 6) if store else 0.0,
            "store_fsync_seconds": round(store.log.fsync_seconds, 6) if store else 0.0,
            "store_fsync_max_seconds": round(store.log.fsync_max_seconds, 6) if store else 0.0,
            "uptime_seconds": round(time.time() - self.started, 3),
        }

    def metrics(self) -> str:
        """Prometheus text exposition (format 0.0.4)."""
        stats = self.stats()
        lines: list[str] = []

        def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

        metric("hopsim_events_accepted_total", "counter", "Events stored (since the log began).",
               [("", stats["events_accepted"])])  # fmt: skip
        metric("hopsim_events_duplicate_total", "counter", "Events dropped as duplicate messageId.",
               [("", stats["events_duplicate"])])  # fmt: skip
        metric("hopsim_events_rejected_total", "counter", "Events in refused requests.",
               [("", stats["events_rejected"])])  # fmt: skip
        metric("hopsim_profiles", "gauge", "Stitched profiles.", [("", stats["profiles"])])
        metric("hopsim_events_applied_total", "counter", "Events the engine has read from the log.",
               [("", stats["events_applied"])])  # fmt: skip
        metric("hopsim_engine_lag_bytes", "gauge", "Durable log bytes the engine has not read yet.",
               [("", stats["engine_lag_bytes"])])  # fmt: skip
        metric("hopsim_inflight_requests", "gauge", "Ingest requests inside the server.",
               [("", stats["inflight"])])  # fmt: skip
        metric("hopsim_store_commits_total", "counter", "Group commits (one fsync each).",
               [("", stats["store_commits"])])  # fmt: skip
        metric("hopsim_store_commit_seconds_total", "counter",
               "Group commit time, from write to acknowledgement.",
               [("", stats["store_commit_seconds"])])  # fmt: skip
        metric("hopsim_store_fsync_seconds_total", "counter", "Time inside fsync itself.",
               [("", stats["store_fsync_seconds"])])  # fmt: skip
        metric("hopsim_store_fsync_max_seconds", "gauge", "Slowest single fsync so far.",
               [("", stats["store_fsync_max_seconds"])])  # fmt: skip
        samples = [
            (f'{{route="{route}",status="{status}"}}', float(count))
            for (route, status), count in sorted(self.requests.items())
        ]
        metric("hopsim_http_requests_total", "counter", "HTTP requests by route and status.",
               samples)  # fmt: skip
        return "\n".join(lines) + "\n"


def _method_not_allowed(allow: str) -> RequestError:
    # The Allow header value rides in ``message``; _http turns it into the header.
    return RequestError(405, "method_not_allowed", allow)


def _headers(scope: Scope) -> dict[bytes, str]:
    return {name.lower(): value.decode("latin-1") for name, value in scope["headers"]}


async def _read_body(receive: Receive, headers: dict[bytes, str], limit: int) -> bytes:
    declared = headers.get(b"content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise RequestError(400, "invalid_request", "bad Content-Length") from None
        if size > limit:
            raise RequestError(413, "too_large", f"request body over {limit} bytes")
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


def _jsonable(value: Any) -> Any:
    as_json = getattr(value, "as_json", None)
    if callable(as_json):
        return as_json()
    if hasattr(value, "__dict__"):
        return vars(value)
    return str(value)


def build_app(
    data_dir: Path, config: AppConfig | None = None, identity_config: Any = None
) -> HopsimApp:
    """The app the CLI serves: a fresh Engine over the log in ``data_dir``."""
    return HopsimApp(Engine(identity_config), data_dir, config)


# -- OpenAPI -------------------------------------------------------------------


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": _json(_ref("Error"), "Invalid request; every bad item is listed"),
    "401": _json(_ref("Error"), "Missing or wrong write key"),
    "405": _json(_ref("Error"), "Method not allowed"),
    "413": _json(_ref("Error"), "Body over 500 KB or an event over 32 KB"),
    "415": _json(_ref("Error"), "Content-Type is not JSON or Content-Encoding is not gzip"),
    "429": {
        "description": "Past capacity; retry after the number of seconds given",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": _ref("Error")}},
    },
    "503": {
        "description": "The disk refused a write (never caused by the request); retry later",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": _ref("Error")}},
    },
}


def _ingest_op(summary: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "security": [{"writeKey": []}, {}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
            "responses": {"200": _json(_ref("Success"), "Stored durably"), **_ERRORS},
        }
    }


def _get_op(
    summary: str, ok: dict[str, Any], params: list[dict[str, Any]] | None = None, *errors: str
) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok}
    for code in errors:
        responses[code] = _json(_ref("Error"), {"400": "Bad query", "404": "Not found"}[code])
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if params:
        op["parameters"] = params
    return {"get": op}


def _query(name: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": "string"}}


def openapi(bench_endpoints: bool = False) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route this app answers."""
    ident = {"type": ["string", "integer"]}
    obj = {"type": "object"}
    event_props = {
        "type": {"type": "string", "enum": list(validate.SINGLE_TYPES)},
        "messageId": {"type": "string", "minLength": 1, "maxLength": 256},
        "userId": ident,
        "anonymousId": ident,
        "previousId": ident,
        "groupId": ident,
        "event": {"type": "string", "minLength": 1},
        "name": {"type": "string"},
        "category": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "originalTimestamp": {"type": "string", "format": "date-time"},
        "sentAt": {"type": "string", "format": "date-time"},
        "properties": obj,
        "traits": obj,
        "context": obj,
        "integrations": obj,
    }
    event = {"type": "object", "properties": event_props, "required": ["type"]}
    single = {
        "type": "object",
        "properties": {**event_props, "writeKey": {"type": "string"}},
        "description": "One event; type is implied by the path",
    }
    schemas: dict[str, Any] = {
        "Event": event,
        "SingleEvent": single,
        "Batch": {
            "type": "object",
            "required": ["batch"],
            "properties": {
                "batch": {"type": "array", "items": _ref("Event")},
                "context": obj,
                "sentAt": {"type": "string", "format": "date-time"},
                "writeKey": {"type": "string"},
                "integrations": obj,
            },
        },
        "Success": {
            "type": "object",
            "required": ["success"],
            "properties": {"success": {"type": "boolean", "const": True}},
        },
        "Error": {
            "type": "object",
            "required": ["success", "code", "message", "errors"],
            "properties": {
                "success": {"type": "boolean", "const": False},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["index", "field", "expected"],
                        "properties": {
                            "index": {"type": "integer", "description": "-1: the request"},
                            "field": {"type": "string"},
                            "expected": {"type": "string"},
                        },
                    },
                },
            },
        },
        "Stats": {
            "type": "object",
            "required": ["events_accepted", "events_duplicate", "events_rejected", "profiles"],
            "properties": {
                name: {"type": "integer"}
                for name in ("events_accepted", "events_duplicate", "events_rejected", "profiles")
            },
        },
        "Profile": {
            "type": "object",
            "properties": {
                "profile_id": {"type": "string"},
                "kind": {"type": "string"},
                "device_ids": {"type": "array", "items": {"type": "string"}},
                "anonymous_ids": {"type": "array", "items": {"type": "string"}},
                "user_ids": {"type": "array", "items": {"type": "string"}},
            },
        },
    }
    paths: dict[str, Any] = {"/v1/batch": _ingest_op("Many events at once", _ref("Batch"))}
    for kind in validate.SINGLE_TYPES:
        paths[f"/v1/{kind}"] = _ingest_op(f"One {kind} event", _ref("SingleEvent"))
    paths["/v1/profiles/{profile_id}"] = _get_op(
        "A stitched profile",
        _json(_ref("Profile"), "The profile"),
        [{"name": "profile_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "404",
    )
    lookup = {
        "type": "object",
        "properties": {
            "kind": {"type": "string"},
            "value": {"type": "string"},
            "profile_id": {"type": "string"},
            "profile": _ref("Profile"),
        },
    }
    paths["/v1/identity"] = _get_op(
        "The profile an identifier belongs to (give exactly one)",
        _json(lookup, "The owning profile"),
        [_query(k) for k in IDENTIFIER_KINDS],
        "400",
        "404",
    )
    messages = {
        "type": "object",
        "properties": {
            "profile_id": {"type": "string"},
            "messages": {"type": "array", "items": {"type": "object"}},
        },
    }
    paths["/v1/messages"] = _get_op(
        "Messaging decisions for a profile",
        _json(messages, "Decisions, oldest first"),
        [_query("profile_id", required=True)],
        "400",
    )
    paths["/v1/stats"] = _get_op("Counters", _json(_ref("Stats"), "Counters"))
    health = {"type": "object", "properties": {"status": {"type": "string"}}}
    paths["/healthz"] = _get_op("Liveness", _json(health, "Serving"))
    paths["/healthz"]["get"]["responses"]["503"] = _json(health, "Still replaying the log")
    paths["/metrics"] = _get_op(
        "Prometheus metrics",
        {
            "description": "Text format 0.0.4",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
    )
    paths["/openapi.json"] = _get_op("This document", _json(obj, "OpenAPI 3.1"))
    if bench_endpoints:
        paths[BENCH_PATH] = {
            "post": {
                "summary": "BENCHMARK ONLY: decode and count, store nothing",
                "requestBody": {"content": {"application/json": {"schema": obj}}},
                "responses": {"200": _json(obj, "Counted")},
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hopsim serve",
            "version": "0.1.0",
            "description": "Segment-compatible HTTP Tracking API over the hopsim engine",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "writeKey": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "The write key as the Basic user, empty password",
                }
            },
        },
    }
