"""Synthetic traces for tests and benchmarks: evenly spaced events, round-robin devices."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

START = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def write_trace(path: Path, *, events: int, devices: int, span_seconds: float) -> Path:
    """``events`` track events over ``span_seconds`` of simulated time, device i % devices."""
    step = span_seconds / max(1, events - 1)
    with gzip.open(path, "wb", compresslevel=1) as handle:
        for i in range(events):
            device = f"dev-{i % devices:05d}"
            stamp = START + timedelta(seconds=i * step)
            event = {
                "type": "track",
                "messageId": f"m-{i:08d}",
                "timestamp": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "anonymousId": f"a-{device}",
                "event": "Product Viewed",
                "properties": {"seq": i, "product_id": f"p-{i % 37}", "price": 19.0},
                "context": {"device": {"id": device, "type": "phone"}, "locale": "en-US"},
            }
            handle.write(orjson.dumps(event) + b"\n")
    return path
