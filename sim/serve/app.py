"""``hopsim serve`` over ASGI: a Segment-compatible collector around one Engine.

The app is a doorman with a ledger. At the door (``/v1/batch``, ``/v1/track``
and friends) it checks capacity first (429 with ``Retry-After`` when too many
requests are already inside), then the label (content type, size, write
key), then every item (:mod:`sim.serve.validate`). A clean request is
de-duplicated by ``messageId`` and handed to the :class:`~sim.serve.store.Store`;
the answer 200 ``{"success": true}`` goes out only after the ``fsync`` that
covers it. The engine reads the same durable frames a moment later, in log
order, when the door is quiet, so a burst costs parsing and fsync only and a
restart that replays the log rebuilds exactly the same state.

The read side (profiles, identity look-up, messages, stats, metrics, health,
OpenAPI) first lets the engine catch up with the log, then reads it through
the engine's public API. What only the server wants to know (events by type,
the newest timestamp, request counts) it counts itself as the log is applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import orjson

from sim.engine.engine import IDENTIFIER_KINDS, Engine
from sim.engine.identity import IdentityConfig
from sim.serve import validate
from sim.serve.asgi import (
    HEAD_REFUSALS,
    Disconnected,
    Receive,
    Scope,
    Send,
    headers_of,
    read_body,
    respond,
)
from sim.serve.dedup import DEFAULT_MAX_IDS, DEFAULT_WINDOW_SECONDS
from sim.serve.metrics import CONTENT_TYPE as METRICS_TYPE
from sim.serve.metrics import exposition
from sim.serve.openapi import openapi
from sim.serve.pii import Redactor, load_secret
from sim.serve.store import Admission, Recovery, Store, StoreError
from sim.serve.validate import RequestError

log = logging.getLogger("hopsim.serve")

INGEST_PATHS = {
    "/v1/batch": None,
    **{f"/v1/{kind}": kind for kind in validate.SINGLE_TYPES},
}
PROFILE_PREFIX = "/v1/profiles/"
PROFILE_ROUTE = "/v1/profiles/{profile_id}"
CLOCK_AHEAD = timedelta(days=400)
# Reads that carry no personal data and stay open to scrapers and probes.
OPEN_READS = frozenset({"/healthz", "/metrics", "/openapi.json", "/v1/stats"})
OTHER_ROUTE = "other"  # every path that is not a route: one metrics label, whatever was asked
JSON = b"application/json"
SUCCESS = b'{"success":true}'
Answer = tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]  # status, body, type, headers


@dataclass(frozen=True)
class AppConfig:
    """Knobs of one server: the write key (None accepts any), capacity, extras."""

    write_key: str | None = None
    max_inflight: int = 64
    retry_after_seconds: int = 1
    tick_seconds: float = 1.0
    max_engine_lag_bytes: int = 1024 * 1024 * 1024
    quiet_seconds: float = 0.05
    freeze_gc: bool = False  # after recovery, move the rebuilt engine out of GC's sight
    max_guests: int = 64  # requests reading a body to find their write key in it
    body_timeout_seconds: float = 10.0  # the whole body must arrive within this (408)
    read_key: str | None = None  # key for the data-bearing reads (the write key also opens them)
    keep_raw_traits: bool = False  # store emails, phones and IPs as sent (default: keyed hashes)
    dedup_max_ids: int = DEFAULT_MAX_IDS  # messageIds remembered at least (count bound)
    dedup_window_seconds: float = DEFAULT_WINDOW_SECONDS  # ... and for this much event time


class HopsimApp:
    """The ASGI callable. ``async with app.running():`` when no server runs lifespan."""

    def __init__(self, engine: Engine, data_dir: Path, config: AppConfig | None = None) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self.config = config or AppConfig()
        self.store: Store | None = None
        self.recovery: Recovery | None = None
        self.inflight = 0
        self.guests = 0
        self.redact: Redactor | None = None
        self.events_ahead = 0  # applied events too far ahead to move the messaging clock
        self.last_ingest = 0.0
        self.events_duplicate = 0
        self.events_rejected = 0
        self.requests: Counter[tuple[str, int]] = Counter()
        self.started = time.time()
        self.events_by_type: Counter[str] = Counter()
        self.latest_timestamp = ""  # the newest event time applied (ISO-8601, compared as text)
        self._ticker: asyncio.Task[None] | None = None
        self._applier: asyncio.Task[None] | None = None
        self._reads: dict[str, Callable[[dict[str, str]], Answer]] = {
            "/v1/identity": self._identity,
            "/v1/messages": self._messages,
            "/v1/stats": lambda _: (200, orjson.dumps(self.stats()), JSON, []),
            "/healthz": self._health,
            "/metrics": self._metrics,
            "/openapi.json": lambda _: (200, orjson.dumps(openapi()), JSON, []),
        }

    # -- lifecycle -----------------------------------------------------------

    async def startup(self) -> None:
        """Open the store, replay it into the engine, start group commit and the ticker."""
        config = self.config
        store = Store(self.data_dir, self._apply, config.dedup_max_ids, config.dedup_window_seconds)
        if not config.keep_raw_traits:
            self.redact = Redactor(load_secret(self.data_dir))
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
        """The newest applied event time in the messenger's scenario seconds, if any."""
        messaging = self.engine.messaging
        if not self.latest_timestamp or messaging is None:
            return None
        try:
            return messaging.clock.seconds(self.latest_timestamp)
        except ValueError:
            return None

    def clock_bound(self) -> str:
        """The latest event time the messaging clock may be moved to (ISO-8601, UTC).

        ``CLOCK_AHEAD`` past the later of the wall clock and the scenario
        start: a trace replayed on its own calendar still drives messaging,
        while one event stamped ``9999-12-31`` cannot make the messenger roll
        its days one by one across eight millennia (issue 18). Such an event is
        stored and stitched all the same; it just does not move the clock.
        """
        now = datetime.now(UTC)
        messaging = self.engine.messaging
        if messaging is not None:
            now = max(now, messaging.clock.start)
        return (now + CLOCK_AHEAD).strftime("%Y-%m-%dT%H:%M:%S")

    def _apply(self, events: list[validate.Event]) -> None:
        """Feed durable events to the engine, counting what only the server reports."""
        ingest, by_type, latest = self.engine.ingest, self.events_by_type, self.latest_timestamp
        bound = self.clock_bound()
        for event in events:
            ingest(event)
            by_type[str(event.get("type"))] += 1
            stamp = event.get("timestamp")
            if isinstance(stamp, str) and stamp > latest:
                if stamp[:19] > bound:
                    self.events_ahead += 1
                else:
                    latest = stamp
        self.latest_timestamp = latest

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

    def route_of(self, path: str) -> str:
        """The metrics label of a path: a route's template, or one label for everything else.

        The label set is closed: whatever a client asks for, ``/metrics`` has
        at most one series per (route, status) of the OpenAPI document.
        """
        if path in INGEST_PATHS or path in self._reads:
            return path
        if path.startswith(PROFILE_PREFIX):
            return PROFILE_ROUTE
        return OTHER_ROUTE

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        route = self.route_of(path)
        try:
            try:
                status, body, ctype, extra = await self._dispatch(
                    path, method, route, scope, receive
                )
            except RequestError:
                raise
            except Disconnected:
                raise
            except Exception:  # a bug: answer 500 (counted in /metrics), never a bare reset
                log.exception("%s %s failed", method, route)
                raise RequestError(
                    500, "internal_error", "the server failed on this request"
                ) from None
        except RequestError as exc:
            status, body, ctype = exc.status, orjson.dumps(exc.body()), JSON
            extra = [(b"allow", exc.message.encode())] if exc.status == 405 else []
            if exc.status in (408, 413):  # the rest of the body may still be on its way
                extra = [(b"connection", b"close")]
            if exc.status == 405:
                body = orjson.dumps({**exc.body(), "message": f"{method} not allowed"})
        except Disconnected:
            return
        self.requests[(route, status)] += 1
        await respond(send, status, body, ctype, extra, head=method == "HEAD")

    async def _dispatch(
        self, path: str, method: str, route: str, scope: Scope, receive: Receive
    ) -> Answer:
        # The hot ingest path is hand-written: one dict look-up, no router objects per request.
        kind = INGEST_PATHS.get(path, "")
        if kind != "":
            if method != "POST":
                raise _method_not_allowed("POST")
            return await self._ingest(scope, receive, kind)
        if route == OTHER_ROUTE:
            raise RequestError(404, "not_found", f"no route {path}")
        if method not in ("GET", "HEAD"):
            raise _method_not_allowed("GET, HEAD")
        return self._read(path, scope)

    # -- write side ----------------------------------------------------------

    def _busy(self, message: str = "server at capacity; retry after a pause") -> Answer:
        return self._retry_later(RequestError(429, "rate_limited", message))

    def _retry_later(self, error: RequestError) -> Answer:
        """``error``'s answer with ``Retry-After``: the client may send the same again later."""
        retry = str(self.config.retry_after_seconds).encode()
        return error.status, orjson.dumps(error.body()), JSON, [(b"retry-after", retry)]

    def _full(self) -> bool:
        store = self.store
        return (
            store is None
            or self.inflight >= self.config.max_inflight
            or store.lag_bytes > self.config.max_engine_lag_bytes
        )

    async def _ingest(self, scope: Scope, receive: Receive, kind: str | None) -> Answer:
        """Label first (type, header key), then a slot, then the body (bounded in time and size).

        A request whose Basic key is right (or any request when no key is set)
        takes an ingest slot before its body is read. One without a key in the
        header may carry it in the body: it is read in a separate, bounded
        *guest* pool and takes an ingest slot only once the body key is right,
        so clients that never authenticate can never hold an ingest slot.
        Either way the slot covers the same steps: check, admit, fsync.
        """
        headers = headers_of(scope)
        validate.check_content_type(headers.get(b"content-type"))
        header_key = validate.basic_auth_user(headers.get(b"authorization"))
        wanted = self.config.write_key
        if wanted is not None and header_key is not None and not same_key(header_key, wanted):
            raise RequestError(401, "unauthorized", "wrong write key")
        limit = validate.MAX_BATCH_BYTES if kind is None else 2 * validate.MAX_EVENT_BYTES
        doc: Any = None
        read = False  # the body is read (in the guest pool) before the slot
        try:
            if wanted is not None and header_key is None:
                if self.guests >= self.config.max_guests:
                    return self._busy("too many requests waiting to show a write key; retry later")
                self.guests += 1
                try:
                    doc, read = await self._read_json(receive, headers, limit), True
                finally:
                    self.guests -= 1
                key = validate.body_write_key(doc)
                if key is None or not same_key(key, wanted):
                    raise RequestError(401, "unauthorized", "missing or wrong write key")
            if self._full():
                return self._busy()
            self.inflight += 1
            self.last_ingest = time.monotonic()
            try:
                if not read:
                    doc = await self._read_json(receive, headers, limit)
                store, admission, duplicates = self._admit(doc, kind)
                # Free the parsed request now, while it is hot in the cache: only the
                # ids and the frame bytes need to wait for the fsync (measured: freeing
                # 100 cold events after the wait cost as much as parsing them).
                del doc
                await store.commit(admission)
                self.events_duplicate += duplicates
            except StoreError as exc:
                log.error("store refused a write: %s", exc)
                error = RequestError(503, "unavailable", "storage unavailable; retry later")
                return self._retry_later(error)
            finally:
                self.inflight -= 1
        except RequestError as exc:
            self.events_rejected += exc.items
            raise
        return 200, SUCCESS, JSON, []

    async def _read_json(self, receive: Receive, headers: dict[bytes, str], limit: int) -> Any:
        """The parsed body; its raw and decoded bytes are gone once this returns."""
        raw = await read_body(receive, headers, limit, self.config.body_timeout_seconds)
        body = validate.decode_body(raw, headers.get(b"content-encoding"), limit)
        del raw
        return validate.parse_json(body)

    def _admit(self, doc: Any, kind: str | None) -> tuple[Store, Admission, int]:
        """Check the body's items, queue their frame: (store, admission, duplicates).

        The checked batch lives only in here; what waits for the fsync is the
        admission (the new ids and the frame bytes).
        """
        batch = validate.build_batch(doc, kind, self.redact)
        store = self.store
        if store is None:  # shutting down while this request was read
            raise RequestError(429, "rate_limited", "server is shutting down")
        admission = store.admit(batch.events, batch.encoded)
        return store, admission, len(batch.events) - len(admission.ids)

    # -- read side -----------------------------------------------------------

    def _check_reader(self, scope: Scope) -> None:
        """Profiles, identities and messages answer only to the read or write key, when set."""
        keys = [k for k in (self.config.read_key, self.config.write_key) if k is not None]
        if not keys:
            return
        given = validate.basic_auth_user(headers_of(scope).get(b"authorization"))
        # every key is compared, so the time taken does not say which one was close
        matches = [given is not None and same_key(given, k) for k in keys]
        if not any(matches):
            raise RequestError(401, "unauthorized", "missing or wrong read key")

    def _read(self, path: str, scope: Scope) -> Answer:
        if path not in OPEN_READS:
            self._check_reader(scope)
        if path not in ("/healthz", "/metrics", "/openapi.json"):
            self.catch_up()
        if path.startswith(PROFILE_PREFIX):
            profile_id = path.removeprefix(PROFILE_PREFIX)
            profile = self.engine.profile(profile_id)
            if profile is None:
                raise RequestError(404, "not_found", f"no profile {profile_id!r}")
            return 200, orjson.dumps(profile.as_json(), default=str), JSON, []
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        return self._reads[path](query)

    def _identity(self, query: dict[str, str]) -> Answer:
        given = [(k, v) for k, v in query.items() if k in IDENTIFIER_KINDS and v]
        if len(given) != 1:
            raise RequestError(
                400,
                "invalid_request",
                "give exactly one of anonymousId, userId, deviceId",
                [validate.ItemError(-1, "query", "exactly one of " + ", ".join(IDENTIFIER_KINDS))],
            )
        kind, value = given[0]
        found = self.engine.lookup(kind, value)
        if found is None:
            raise RequestError(404, "not_found", f"no profile holds {kind} {value!r}")
        doc = {"kind": kind, "value": value, "profile_id": found.profile_id}
        answer: dict[str, object] = {**doc, "profile": found.as_json()}
        return 200, orjson.dumps(answer, default=str), JSON, []

    def _messages(self, query: dict[str, str]) -> Answer:
        wanted_id = query.get("profile_id")
        if not wanted_id:
            raise RequestError(
                400,
                "invalid_request",
                "profile_id is required",
                [validate.ItemError(-1, "profile_id", "a profile id")],
            )
        doc = {"profile_id": wanted_id, "messages": self.engine.messages(wanted_id)}
        return 200, orjson.dumps(doc, default=str), JSON, []

    def _health(self, _: dict[str, str]) -> Answer:
        ok = self.store is not None
        body = orjson.dumps({"status": "ok" if ok else "starting"})
        return (200 if ok else 503), body, JSON, []

    def _metrics(self, _: dict[str, str]) -> Answer:
        requests = self.requests.copy()
        for status, count in HEAD_REFUSALS.items():
            if count:
                requests[(OTHER_ROUTE, status)] += count
        return 200, exposition(self.stats(), requests).encode(), METRICS_TYPE, []

    def stats(self) -> dict[str, Any]:
        """The counters of ``/v1/stats``; accepted counts survive restarts (from the log)."""
        store = self.store
        return {
            "events_accepted": store.events_stored if store else 0,
            "events_applied": store.events_applied if store else 0,
            "engine_lag_bytes": store.lag_bytes if store else 0,
            "events_duplicate": self.events_duplicate,
            "events_rejected": self.events_rejected,
            "profiles": len(self.engine.profiles()),
            "events_by_type": dict(self.events_by_type),
            "inflight": self.inflight,
            "guests": self.guests,
            "events_ahead_of_clock": self.events_ahead,
            "store_commits": store.commits if store else 0,
            "store_commit_seconds": round(store.commit_seconds, 6) if store else 0.0,
            "store_fsync_seconds": round(store.log.fsync_seconds, 6) if store else 0.0,
            "store_fsync_max_seconds": round(store.log.fsync_max_seconds, 6) if store else 0.0,
            "uptime_seconds": round(time.time() - self.started, 3),
        }


def same_key(given: str, wanted: str) -> bool:
    """Constant-time key comparison (a ``!=`` leaks how many leading characters match)."""
    return hmac.compare_digest(given.encode("utf-8"), wanted.encode("utf-8"))


def _method_not_allowed(allow: str) -> RequestError:
    # The Allow header value rides in ``message``; _http turns it into the header.
    return RequestError(405, "method_not_allowed", allow)


def build_app(
    data_dir: Path, config: AppConfig | None = None, identity_config: IdentityConfig | None = None
) -> HopsimApp:
    """The app the CLI serves: a fresh Engine over the log in ``data_dir``."""
    return HopsimApp(Engine(identity_config), data_dir, config)
