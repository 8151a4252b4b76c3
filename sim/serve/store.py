"""The embedded store: an append-only, CRC-framed log with group commit.

Picture a ledger kept in ink. Each accepted request becomes one line (a
*frame*): its length, a CRC-32 of its bytes, then the events as one JSON
array. Lines are only ever added at the end, and a request is answered 200
only after the ``fsync`` that covers its line has returned. Many requests
waiting at once share one ``fsync`` (group commit): while the disk is busy the
event loop keeps accepting, and the next write carries everything that queued
up meanwhile.

After a crash the ledger is read from the top: every whole line is replayed
into the engine and its ``messageId``s go back into the de-duplication window
(:mod:`sim.serve.dedup`), so a retry after a restart is still recognised. An
id enters the window only once the ``fsync`` covering it has returned; until
then it is *in flight*, and a request repeating it waits for that commit and
shares its fate (never a 200 for a duplicate of a write that failed). A line cut short by the crash
(short header, short body or wrong CRC) can only be the last one, because
nothing is acknowledged before its ``fsync``; it is cut off and the file is
truncated to the last whole line before anything new is appended.

``EventLog`` is the synchronous file; ``Store`` adds de-duplication, the
group commit the HTTP app awaits, and the engine's own reading position
(``apply_pending``), which trails the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from sim.serve.dedup import DEFAULT_MAX_IDS, DEFAULT_WINDOW_SECONDS, DedupWindow, Keys, tags
from sim.serve.validate import Event

log = logging.getLogger("hopsim.store")

HEADER = struct.Struct(">II")  # payload length, CRC-32 of the payload
MAX_FRAME = 64 * 1024 * 1024
READ_CHUNK = 4 * 1024 * 1024
SYNC_THREADS = 2
EAGER_FLUSH_BYTES = 256 * 1024
LOG_NAME = "events.log"
LOCK_NAME = "lock"


class StoreError(Exception):
    """The data directory cannot be used (locked by another server, unreadable)."""


def frame(payload: bytes) -> bytes:
    """One ledger line: header then payload."""
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def encode_events(encoded: list[bytes]) -> bytes:
    """Already-encoded events as one JSON array payload."""
    return b"[" + b",".join(encoded) + b"]"


@dataclass(frozen=True)
class Recovery:
    """What opening the log found: whole frames, events, and bytes of torn tail dropped."""

    frames: int
    events: int
    dropped_bytes: int


class EventLog:
    """The file itself: append frames with one ``fsync``, replay whole frames."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock_fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock_fd)
            raise StoreError(f"{directory} is in use by another hopsim serve") from None
        self.path = directory / LOG_NAME
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        self.size = os.fstat(self._fd).st_size
        self.dropped_bytes = 0
        self.fsyncs = 0
        self.fsync_seconds = 0.0
        self.fsync_max_seconds = 0.0

    def replay(self) -> Iterator[list[Event]]:
        """Yield the events of every whole frame; truncate a torn tail once read."""
        offset = 0
        for end, events in self.frames(0, self.size):
            offset = end
            yield events
        if offset < self.size:
            log.warning("dropping %d bytes of torn tail from %s", self.size - offset, self.path)
            os.ftruncate(self._fd, offset)
            os.fsync(self._fd)
        self.dropped_bytes = self.size - offset
        self.size = offset

    def frames(self, start: int, end: int) -> Iterator[tuple[int, list[Event]]]:
        """``(offset after the frame, events)`` for each whole frame in ``[start, end)``.

        Reads in chunks of at least ``READ_CHUNK`` bytes; stops silently at the
        first short or corrupt frame (:meth:`replay` decides what that means).
        """
        offset = start
        while offset + HEADER.size <= end:
            length, crc = HEADER.unpack(os.pread(self._fd, HEADER.size, offset))
            if length > MAX_FRAME or offset + HEADER.size + length > end:
                return
            want = min(end - offset, max(READ_CHUNK, HEADER.size + length))
            chunk = memoryview(os.pread(self._fd, want, offset))
            pos = 0
            while pos + HEADER.size <= len(chunk):
                length, crc = HEADER.unpack_from(chunk, pos)
                if length > MAX_FRAME:
                    return
                stop = pos + HEADER.size + length
                if stop > len(chunk):
                    break  # the next frame continues in the next chunk
                body = chunk[pos + HEADER.size : stop]
                if zlib.crc32(body) != crc:
                    return
                try:
                    events = orjson.loads(body)
                except orjson.JSONDecodeError:
                    return
                pos = stop
                yield offset + pos, events
            if pos == 0:
                return
            offset += pos

    def write(self, payloads: list[bytes]) -> int:
        """Append every payload as a frame (page cache only); returns the new size."""
        if payloads:
            data = b"".join([frame(p) for p in payloads])
            view = memoryview(data)
            try:
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
            except OSError:
                self.rewind(self.size)
                raise
            self.size += len(data)
        return self.size

    def sync(self) -> None:
        """``fsync``: everything written so far is on disk when this returns."""
        began = time.perf_counter()
        os.fsync(self._fd)
        took = time.perf_counter() - began
        self.fsync_seconds += took
        self.fsync_max_seconds = max(self.fsync_max_seconds, took)
        self.fsyncs += 1

    def rewind(self, size: int) -> None:
        """Cut the file back to ``size`` (after a failed write or fsync).

        Never leave half a frame in the middle of the ledger: later frames
        would sit behind it and be cut off on replay.
        """
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, size)
        self.size = size

    def append(self, payloads: list[bytes]) -> int:
        """:meth:`write` then :meth:`sync`: one group commit. Returns the durable size."""
        size = self.write(payloads)
        if payloads:
            self.sync()
        return size

    def close(self) -> None:
        os.fsync(self._fd)
        os.close(self._fd)
        os.close(self._lock_fd)


@dataclass
class Admission:
    """One request's share of a group commit: its new ids, their frame, what it waits on.

    ``waits`` are the commits of *other* requests that carry ids this one
    repeats and that are not durable yet: the request is answered only once
    those are durable too, and fails with them (a duplicate is never
    acknowledged ahead of, or instead of, its original).
    """

    payload: bytes | None
    ids: list[str]
    keys: Keys
    stamp: float
    done: asyncio.Future[None]
    waits: list[asyncio.Future[None]]


def window_time(events: list[Event], now: float) -> float:
    """The event time a request is remembered at: its newest ``timestamp``, at most ``now``.

    A client's far-future timestamp must not push every other id out of the
    window, so the wall clock caps it; no timestamp means "received now".
    """
    # The first and the last event stand for the request (SDKs queue in time order):
    # the window's clock is a running maximum, it needs no more precision than that.
    if not events:
        return now
    stamps = [s for s in (events[0].get("timestamp"), events[-1].get("timestamp"))
              if isinstance(s, str)]  # fmt: skip
    if not stamps:
        return now
    newest = max(stamps)
    try:
        moment = datetime.fromisoformat(newest)
    except ValueError:
        return now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return min(moment.timestamp(), now)
    except (OverflowError, OSError, ValueError):
        return now


class Store:
    """De-duplication, group commit, and the engine's reading position in the log.

    Writing and applying are two separate walks along the ledger. ``commit``
    returns once a request's frame is durable; the engine catches up later by
    :meth:`apply_pending`, which reads whole frames from ``applied`` to
    ``durable`` and hands their events to ``apply`` in log order, exactly as
    a replay after a crash would. ``lag_bytes`` is how far behind it is; the
    lag lives on disk, not in memory.
    """

    def __init__(
        self,
        directory: Path,
        apply: Callable[[list[Event]], None],
        max_ids: int = DEFAULT_MAX_IDS,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
    ) -> None:
        self.log = EventLog(directory)
        self.apply = apply
        self.window = DedupWindow(max_ids, window_seconds)
        self._inflight: dict[str, Admission] = {}  # ids admitted, not durable yet
        self.events_stored = 0
        self.events_applied = 0
        self.commits = 0
        self.commit_seconds = 0.0
        self.pending_bytes = 0
        self.durable = 0
        self.applied = 0
        self._pending: list[Admission] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scheduled = False
        self._unflushed = 0
        self._syncing = 0
        self._drained: asyncio.Event | None = None
        self._closing = False
        self.broken: StoreError | None = None
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="hopsim-write")
        self._syncer = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="hopsim-fsync")

    @property
    def lag_bytes(self) -> int:
        return self.durable - self.applied

    def recover(self) -> Recovery:
        """Replay the log into the engine and the de-dup set (call once, before serving)."""
        frames = events = 0
        now = time.time()
        for batch in self.log.replay():
            frames += 1
            ids = [str(e.get("messageId")) for e in batch]
            keys = tags(ids)
            known = self.window.contains(keys)
            fresh: list[Event] = []
            fresh_at: list[int] = []
            local: set[str] = set()
            for i, event in enumerate(batch):
                if not known[i] and ids[i] not in local:
                    local.add(ids[i])
                    fresh.append(event)
                    fresh_at.append(i)
            self.window.add([keys[i] for i in fresh_at], window_time(fresh, now))
            events += len(fresh)
            if fresh:
                self._apply(fresh)
        self.events_stored = self.events_applied = events
        self.durable = self.applied = self.log.size
        return Recovery(frames, events, self.log.dropped_bytes)

    def _apply(self, events: list[Event]) -> None:
        try:
            self.apply(events)
        except Exception:  # durable already; a bug in the engine must not stop the log
            log.exception("engine failed to apply %d event(s)", len(events))

    def apply_pending(self, max_bytes: int | None = None) -> int:
        """Feed the engine durable frames it has not seen; returns the events applied."""
        end = self.durable
        if max_bytes is not None:
            end = min(end, self.applied + max_bytes)
        if end <= self.applied:
            return 0
        count = 0
        for offset, events in self.log.frames(self.applied, end):
            self._apply(events)
            count += len(events)
            self.applied = offset
        if self.applied < end and count == 0:
            # ``max_bytes`` cut through a frame: take that one frame whole.
            for offset, events in self.log.frames(self.applied, self.durable):
                self._apply(events)
                count += len(events)
                self.applied = offset
                break
        self.events_applied += count
        return count

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._drained = asyncio.Event()
        self._drained.set()

    def admit(self, events: list[Event], encoded: list[bytes]) -> Admission:
        """Keep events whose ``messageId`` is new (also within the request).

        An id is *known* when it is durable and inside the window, *pending*
        when another request carries it and is not durable yet (then this
        request waits for that one and shares its fate), else new. Only new
        ids go into this request's frame; they become known once its fsync
        returns, never before.
        """
        loop = self._loop
        if loop is None or self._closing:
            raise StoreError("store is not accepting writes")
        ids = [e["messageId"] for e in events]
        keys = tags(ids)
        known = self.window.contains(keys)
        inflight = self._inflight
        waits: dict[int, asyncio.Future[None]] = {}
        if not any(known) and inflight.keys().isdisjoint(ids) and len(set(ids)) == len(ids):
            fresh, fresh_keys, parts = ids, keys, encoded  # the common case: all new
        else:
            fresh, fresh_keys, parts = [], [], []
            local: set[str] = set()
            for i, message_id in enumerate(ids):
                if known[i] or message_id in local:
                    continue
                other = inflight.get(message_id)
                if other is not None:
                    waits[id(other)] = other.done
                    continue
                local.add(message_id)
                fresh.append(message_id)
                fresh_keys.append(keys[i])
                parts.append(encoded[i])
        admission = Admission(
            encode_events(parts) if parts else None,
            fresh,
            fresh_keys,
            window_time(events, time.time()),
            loop.create_future(),
            list(waits.values()),
        )
        inflight.update(dict.fromkeys(fresh, admission))
        return admission

    def _forget(self, admission: Admission) -> None:
        inflight = self._inflight
        for message_id in admission.ids:
            if inflight.get(message_id) is admission:
                del inflight[message_id]

    async def commit(self, admission: Admission) -> None:
        """Wait until the admission's frame (and everything queued before it) is durable.

        A request made only of duplicates still waits: its originals may be
        queued but not yet on disk, and a 200 must never run ahead of them.
        Raises :class:`StoreError` when its own write or an original it
        repeats failed.
        """
        drained = self._drained
        error: StoreError | None = None
        if drained is None or self._closing:
            error = StoreError("store is not accepting writes")
        elif self.broken is not None:
            error = self.broken
        if error is not None or drained is None:
            error = error or StoreError("store is not accepting writes")
            self._forget(admission)
            admission.done.set_exception(error)
            admission.done.exception()  # retrieved: duplicates waiting on it re-raise it
            raise error
        payload = admission.payload
        self._pending.append(admission)
        if payload:
            self.pending_bytes += len(payload)
        drained.clear()
        self._unflushed += len(payload) if payload else 0
        if self._unflushed >= EAGER_FLUSH_BYTES and self._syncing < SYNC_THREADS:
            # Enough for a worthwhile write: start it now instead of at the end
            # of this loop iteration, so the disk works while we parse on.
            self._flush()
        else:
            self._schedule()
        # If this request is cancelled (only at shutdown) its future is too, and a request
        # waiting on it gets CancelledError: no answer, never a false 200. Waiting on
        # another request's future goes through shield, so it cannot cancel theirs.
        await admission.done
        for original in admission.waits:
            await asyncio.shield(original)

    # The group commit is driven by plain loop callbacks, not a task: every
    # hop through the event loop costs a whole iteration of request work, and
    # a commit's latency is counted in such hops.
    #
    #   commit() -> call_soon(_flush): hand the group to the writer thread
    #   writer thread: write in order, submit the fsync to the pool
    #   fsync done -> call_soon_threadsafe(_synced): acknowledge the group
    #
    # Up to SYNC_THREADS fsyncs overlap: while one is on its way to the disk
    # the next group is written and its own fsync started (the kernel journals
    # concurrent fsyncs together). An fsync covers every byte written before
    # it started, so a group is acknowledged when *its* fsync returns, in
    # whatever order they finish.

    def _schedule(self) -> None:
        if not self._scheduled and self._loop is not None:
            self._scheduled = True
            self._loop.call_soon(self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._scheduled = False
        self._flush()

    def _flush(self) -> None:
        if not self._pending or self._syncing >= SYNC_THREADS:
            self._check_drained()
            return  # a finishing fsync reschedules
        group, self._pending = self._pending, []
        self._unflushed = 0
        if self.broken is not None:
            self._fail(group, self.broken)
            self._check_drained()
            return
        payloads = [p.payload for p in group if p.payload]
        self._syncing += 1
        self._writer.submit(self._write_then_sync, group, payloads, time.perf_counter())

    def _write_then_sync(self, group: list[Admission], payloads: list[bytes], began: float) -> None:
        """Writer thread: append the group in order, then hand its fsync to the pool.

        Writes stay on one thread so frames keep the order they were admitted
        in; a write that blocks behind a running fsync blocks only this thread.
        """
        loop = self._loop
        assert loop is not None
        try:
            end = self.log.write(payloads)
        except OSError as exc:
            loop.call_soon_threadsafe(self._synced, group, -1, began, exc)
            return
        future = self._syncer.submit(self.log.sync)
        future.add_done_callback(
            lambda f: loop.call_soon_threadsafe(self._synced, group, end, began, f.exception())
        )

    def _synced(
        self, group: list[Admission], end: int, began: float, error: BaseException | None
    ) -> None:
        self._syncing -= 1
        if error is not None and end < 0:
            log.error("log write failed: %s", error)
            self._fail(group, StoreError(f"log write failed: {error}"))
        elif error is not None:
            # A failed fsync cannot be retried safely (the kernel may have
            # dropped the dirty pages): stop taking writes altogether.
            log.error("fsync failed, refusing further writes: %s", error)
            self.broken = StoreError(f"fsync failed: {error}")
            self._fail(group, self.broken)
        else:
            self.durable = max(self.durable, end)
            self.commits += 1
            self.commit_seconds += time.perf_counter() - began
            fresh = [item for item in group if item.ids]
            if fresh:  # one window update per group: a handful of array operations
                keys = [key for item in fresh for key in item.keys]
                self.window.add(keys, max(item.stamp for item in fresh))
            for item in group:
                self.events_stored += len(item.ids)
                self._forget(item)
                if item.payload:
                    self.pending_bytes -= len(item.payload)
                if not item.done.done():
                    item.done.set_result(None)
        if self._pending:
            self._schedule()
        self._check_drained()

    def _check_drained(self) -> None:
        if not self._pending and not self._syncing and self._drained is not None:
            self._drained.set()

    def _fail(self, group: list[Admission], error: StoreError) -> None:
        for item in group:
            self._forget(item)  # never marked known: the client's retry is accepted
            if item.payload:
                self.pending_bytes -= len(item.payload)
            if not item.done.done():
                item.done.set_exception(error)
                item.done.exception()  # retrieved: every waiter re-raises it

    async def close(self) -> None:
        """Flush whatever is queued, then close the file."""
        self._closing = True
        if self._drained is not None:
            await self._drained.wait()
        self._writer.shutdown(wait=True)
        self._syncer.shutdown(wait=True)
        self.log.close()
