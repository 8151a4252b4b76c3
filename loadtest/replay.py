"""The replay plan: which batch goes out when, on which lane.

A trace is a gzip JSON-lines file of Segment events ordered by timestamp.
Replaying it at ``speed`` means each event is *due* at
``(timestamp - first timestamp) / speed`` seconds after the replay starts.

Events are batched the way the analytics SDKs do it (``upload_size`` 100,
``upload_interval`` 0.5 s): a batch opens with its first event and is sent
when it holds ``size`` events (at the due time of the last one), when it would
exceed ``max_bytes``, or ``interval`` seconds after it opened, whichever comes
first. The batch boundaries and each batch's *intended* send time follow from
the schedule alone, never from how fast the server answered; that is what lets
the measurement correct for coordinated omission (a slow server delays the
actual send, not the intended one).

``scope="device"`` batches each device on its own (a phone's SDK only sees its
own events); ``scope="lane"`` lets the devices of one lane share batches (a
server-side forwarder), fewer and larger requests.

Order: every device is hashed (CRC-32 of its id, stable across processes) to
one shard (process) and one lane (a sequential sender) inside it. A lane sends
its batches one after the other, so a device's events reach the server in
trace order, whatever the number of lanes or processes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from sim.trace import reader
from sim.trace.clock import epoch_seconds

DEFAULT_BATCH_SIZE = 100
DEFAULT_INTERVAL = 0.5
MAX_BATCH_BYTES = 475_000  # Segment's limit is 500 KB per batch; keep a margin
SCOPES = ("device", "lane")


class TraceError(ValueError):
    """The trace cannot be replayed (missing, unreadable, bad line, out of order)."""


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One event: seconds since the trace start, its device, and its raw JSON line."""

    at: float
    device: str
    raw: bytes


@dataclass(slots=True)
class Batch:
    """Events sent in one POST; ``intended`` is seconds after the replay start."""

    intended: float
    events: list[TraceEvent] = field(default_factory=list)
    size_bytes: int = 0

    @property
    def count(self) -> int:
        return len(self.events)

    def body(self, write_key: str | None = None) -> bytes:
        """The ``/v1/batch`` body; the raw event lines are reused, never re-encoded."""
        items = b",".join([event.raw for event in self.events])
        if write_key is None:
            return b'{"batch":[' + items + b"]}"
        return b'{"batch":[' + items + b'],"writeKey":' + orjson.dumps(write_key) + b"}"


@dataclass
class Plan:
    """A shard's batches, one list per lane, each list in send order."""

    lanes: list[list[Batch]]
    events: int
    span: float  # seconds of replay from the first due event to the last intended send

    @property
    def batches(self) -> int:
        return sum(len(lane) for lane in self.lanes)


def device_hash(device: str) -> int:
    """Stable across processes and runs (unlike ``hash``)."""
    return zlib.crc32(device.encode("utf-8"))


def shard_of(device: str, shards: int) -> int:
    return device_hash(device) % shards


def lane_of(device: str, shards: int, lanes: int) -> int:
    return (device_hash(device) // shards) % lanes


def device_id(event: dict[str, Any]) -> str:
    """``context.device.id``, else the anonymousId, else the userId."""
    context = event.get("context")
    if isinstance(context, dict):
        device = context.get("device")
        if isinstance(device, dict) and isinstance(device.get("id"), str):
            return str(device["id"])
    for key in ("anonymousId", "userId"):
        value = event.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def iter_lines(path: Path) -> Iterator[bytes]:
    """The trace's non-blank lines, stripped, read by the one trace reader."""
    try:
        for _, line in reader.iter_lines(path):
            yield line.strip()
    except reader.TraceReadError as exc:
        raise TraceError(str(exc)) from None


def read_trace(
    path: Path,
    shard: int = 0,
    shards: int = 1,
    on_progress: Callable[[], object] | None = None,
) -> list[TraceEvent]:
    """The events of one shard, ``at`` relative to the first event of the whole trace.

    ``on_progress`` is called every 10,000 lines (a worker yields to gevent there,
    so its heartbeats go on while a large trace loads).
    """
    if shards < 1 or not 0 <= shard < shards:
        raise TraceError(f"shard {shard} of {shards}: expected 0 <= shard < shards")
    events: list[TraceEvent] = []
    start: float | None = None
    previous = float("-inf")
    for number, raw in enumerate(iter_lines(Path(path)), 1):
        if on_progress is not None and number % 10_000 == 0:
            on_progress()
        try:
            event = orjson.loads(raw)
            stamp = epoch_seconds(event["timestamp"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise TraceError(f"{path}:{number}: not an event with a timestamp: {exc}") from None
        if stamp < previous:
            raise TraceError(f"{path}:{number}: timestamps go backwards (trace must be sorted)")
        previous = stamp
        if start is None:
            start = stamp
        device = device_id(event)
        if shards > 1 and shard_of(device, shards) != shard:
            continue
        events.append(TraceEvent(stamp - start, device, raw))
    return events


def build_plan(
    events: Iterable[TraceEvent],
    *,
    speed: float = 1.0,
    lanes: int = 1,
    shards: int = 1,
    size: int = DEFAULT_BATCH_SIZE,
    interval: float = DEFAULT_INTERVAL,
    max_bytes: int = MAX_BATCH_BYTES,
    scope: str = "device",
    on_progress: Callable[[], object] | None = None,
) -> Plan:
    """Batch ``events`` (in trace order) into per-lane lists of batches.

    ``on_progress`` is called every 10,000 events, as in :func:`read_trace`.
    """
    if speed <= 0:
        raise ValueError("speed must be > 0")
    if lanes < 1 or size < 1 or interval < 0 or max_bytes < 1:
        raise ValueError("lanes and size must be >= 1, interval >= 0, max_bytes >= 1")
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    out: list[list[Batch]] = [[] for _ in range(lanes)]
    open_batches: dict[tuple[int, str], Batch] = {}
    lane_cache: dict[str, int] = {}
    count = 0
    last_due = 0.0
    for event in events:
        due = event.at / speed
        last_due = due
        count += 1
        if on_progress is not None and count % 10_000 == 0:
            on_progress()
        lane = lane_cache.get(event.device)
        if lane is None:
            lane = lane_cache[event.device] = lane_of(event.device, shards, lanes)
        key = (lane, event.device if scope == "device" else "")
        batch = open_batches.get(key)
        extra = len(event.raw) + 1
        if batch is not None and (
            due > batch.intended or batch.size_bytes + extra > max_bytes
        ):  # the timer fired before this event, or it would not fit
            if due <= batch.intended:  # full in bytes: sent when this event arrives
                batch.intended = due
            out[lane].append(batch)
            batch = None
        if batch is None:
            batch = open_batches[key] = Batch(due + interval)
        batch.events.append(event)
        batch.size_bytes += extra
        if batch.count >= size:
            batch.intended = due
            out[lane].append(batch)
            del open_batches[key]
    for (lane, _), batch in open_batches.items():
        out[lane].append(batch)
    span = 0.0
    for lane_batches in out:
        # stable: a device's batches already have non-decreasing intended times
        lane_batches.sort(key=lambda b: b.intended)
        if lane_batches:
            span = max(span, lane_batches[-1].intended)
    return Plan(out, count, max(span, last_due))


def arrival_rate(events: Iterable[TraceEvent], speed: float, bin_seconds: float = 1.0) -> list[int]:
    """Events due in each ``bin_seconds`` of replay time (the trace's own daily curve)."""
    counts: list[int] = []
    for event in events:
        index = int(event.at / speed / bin_seconds)
        if index >= len(counts):
            counts.extend([0] * (index + 1 - len(counts)))
        counts[index] += 1
    return counts
