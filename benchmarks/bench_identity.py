"""Identity engine: in-process events/s and memory per identifier.

Throughput is measured side by side with msgspec and orjson decoding the
very same events in the same run (the ratio is what is held to a target,
because the machine is shared and noisy); the absolute rate is reported too.
Memory is the growth of the process while a graph takes in one million
identifiers (install ids, device ids and account ids of 400,000 devices),
evidence for the probabilistic rules included.
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import msgspec
import orjson

from benchmarks import Result
from sim.engine.identity import IdentityConfig, IdentityGraph

THROUGHPUT_EVENTS = 200_000
MEMORY_IDENTIFIERS = 1_000_000
EVENTS_PER_DEVICE = 3
TYPES = ("phone", "tablet", "laptop", "watch", "car", "tv", "speaker")
NAMES = (
    "Product Viewed",
    "Application Opened",
    "Product Added",
    "Cart Viewed",
    "Products Searched",
)


def device_events(device: int, count: int) -> Iterator[dict[str, Any]]:
    """``count`` trace-shaped events of one device; every other device is logged in."""
    household = device // 4
    for n in range(count):
        minute = (device * 7 + n * 3) % 600
        event: dict[str, Any] = {
            "type": "track",
            "messageId": f"{device:08x}-{n:06d}",
            "timestamp": f"2026-11-0{2 + n % 5}T{8 + minute // 60:02d}:{minute % 60:02d}:05.123Z",
            "anonymousId": f"6f1c{device:08x}-0000-4000-a000-{device:012x}",
            "event": NAMES[n % len(NAMES)],
            "properties": {"product_id": f"p-{n % 40}", "price": 19.0},
            "context": {
                "device": {
                    "id": f"d{device:015x}",
                    "type": TYPES[device % len(TYPES)],
                    "model": "iPhone 15",
                    "manufacturer": "Apple",
                },
                "os": {"name": "iOS", "version": "17.4"},
                "app": {"name": "Shopwise", "version": "4.2.0", "build": "420"},
                "ip": f"73.{household % 250}.{(household // 250) % 250}.{n % 3}",
                "locale": "en-US",
                "timezone": "America/New_York",
                "library": {"name": "hopsim", "version": "0.1.0"},
            },
        }
        if device % 2 == 0:
            event["userId"] = f"u-{device // 2:010x}"
        yield event


def population(devices: int, per_device: int) -> Iterator[dict[str, Any]]:
    for device in range(devices):
        yield from device_events(device, per_device)


def lean_events(device: int, count: int) -> Iterator[dict[str, Any]]:
    """Only what the identity engine reads (the memory run builds 1.2M of these)."""
    household = device // 4
    anonymous = f"6f1c{device:08x}-0000-4000-a000-{device:012x}"
    context = {
        "device": {"id": f"d{device:015x}", "type": TYPES[device % len(TYPES)]},
        "ip": f"73.{household % 250}.{(household // 250) % 250}.1",
        "timezone": "America/New_York",
    }
    for n in range(count):
        minute = (device * 7 + n * 3) % 600
        event: dict[str, Any] = {
            "type": "track",
            "timestamp": f"2026-11-0{2 + n % 5}T{8 + minute // 60:02d}:{minute % 60:02d}:05.123Z",
            "anonymousId": anonymous,
            "event": NAMES[n % len(NAMES)],
            "context": context,
        }
        if device % 2 == 0:
            event["userId"] = f"u-{device // 2:010x}"
        yield event


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def best_of(runs: int, work: Any) -> float:
    """The fastest of ``runs`` timings (the least disturbed by neighbours), GC paused."""
    times = []
    for _ in range(runs):
        gc.collect()
        gc.disable()  # decoders allocate millions of containers; no GC pauses for anyone
        try:
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        finally:
            gc.enable()
    return min(times)


def throughput() -> list[Result]:
    events = list(population(THROUGHPUT_EVENTS // 50, 50))
    lines = [orjson.dumps(e) for e in events]
    decoder = msgspec.json.Decoder()
    t_msgspec = best_of(3, lambda: [decoder.decode(line) for line in lines])
    t_orjson = best_of(3, lambda: [orjson.loads(line) for line in lines])

    def ingest() -> None:
        graph = IdentityGraph(IdentityConfig())
        observe = graph.observe
        for event in events:
            observe(event)

    t_engine = best_of(3, ingest)
    engine = rate(len(events), t_engine)
    return [
        Result("engine events/s (absolute)", engine, "events/s", 200_000.0),
        Result("engine vs msgspec decode", t_msgspec / t_engine, "ratio", 0.25),
        Result("engine vs orjson decode", t_orjson / t_engine, "ratio", 0.25),
        Result(
            "msgspec decode events/s",
            rate(len(events), t_msgspec),
            "events/s",
            note="same events, same run",
        ),
    ]


def resident_bytes() -> int | None:
    """This process's resident set size (Linux ``/proc``); ``None`` elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def memory() -> list[Result]:
    """Resident-set growth while a graph takes in 1M identifiers (tracemalloc off Linux).

    RSS counts everything the graph holds, its ingest cache included (and a
    little allocator slack, so it errs on the high side); tracemalloc would be
    exact but slows ingest fivefold.
    """
    devices = MEMORY_IDENTIFIERS * 2 // 5  # anonymousId + device id each, userId on half
    gc.collect()
    traced = resident_bytes() is None
    if traced:
        tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0] if traced else resident_bytes() or 0
    graph = IdentityGraph(IdentityConfig())
    for device in range(devices):
        for event in lean_events(device, EVENTS_PER_DEVICE):
            graph.observe(event)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0] if traced else resident_bytes() or 0
    if traced:
        tracemalloc.stop()
    identifiers = graph.stats()["identifiers"]
    return [
        Result(
            f"memory per identifier @ {identifiers / 1e6:.1f}M",
            (after - before) / identifiers,
            "bytes",
            1024.0,
            higher_is_better=False,
            note=f"{'tracemalloc' if traced else 'RSS delta'}, {EVENTS_PER_DEVICE} events/device",
        )
    ]


def run() -> list[Result]:
    return throughput() + memory()
