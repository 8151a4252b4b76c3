"""The world's speed, measured against a bare SimPy loop in the same process.

The bare loop is the floor of any SimPy model: processes that do nothing
but wait (one timeout per simulated event). The full persona model does
everything `hopsim run` does per event (routines, device choice, sessions,
Segment events, the ordered gzip trace). Rounds alternate so both see the
same machine; the ratio of medians is reported.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import simpy

from benchmarks import Result
from sim.trace.clock import Clock
from sim.trace.events import EventContext
from sim.trace.sink import TraceSink
from sim.trace.writer import JsonlGzWriter
from sim.world.life import play
from sim.world.scenario import load_scenario
from sim.world.trays import Trays
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[1]
PERSONS = 300
DAYS = 2
ROUNDS = 3


def bare_loop(events: int, processes: int = 300) -> float:
    """Events/s of processes that only wait, ``events`` timeouts in all."""
    env = simpy.Environment()
    delays = np.random.default_rng(0).exponential(60.0, size=events).tolist()
    per = events // processes

    def waiter(offset: int) -> Generator[Any, Any, None]:
        for k in range(per):
            yield env.timeout(delays[offset + k])

    for p in range(processes):
        env.process(waiter(p * per))
    started = time.perf_counter()
    env.run()
    return per * processes / (time.perf_counter() - started)


def emit_only(folder: Path, events: int, processes: int = 300, per_session: int = 8) -> float:
    """Events/s of the world's event machinery with no behaviour at all: the ceiling.

    Each process wakes once per session and posts ``per_session`` screen
    events with fixed-shape properties: message ids, stamps, a sealed
    context, per-minute trays in trace order, the gzip writer. Nothing is
    decided, drawn or remembered, so the persona model can at best match it.
    """
    env = simpy.Environment()
    clock = Clock(datetime(2026, 11, 2, tzinfo=UTC))
    writer = JsonlGzWriter(folder / "ceiling.jsonl.gz")
    trays = Trays(lambda batch, _: writer.write_many(batch))
    env.process(trays.run(env))
    context = EventContext({"device": {"id": "d", "type": "phone"}, "ip": "192.0.2.1"}).seal()
    gaps = np.random.default_rng(0).lognormal(2.5, 1.0, size=4096).tolist()
    sessions = events // per_session // processes

    def person(k: int, someone: Any) -> Generator[Any, Any, None]:
        seq = 0
        for s in range(sessions):
            t = env.now
            for step in range(per_session):
                t += gaps[(s * per_session + step + k) % 4096]
                seq += 1
                message_id = f"{k:016x}-{seq:06d}"
                ms = int(t * 1000.0)
                event = {"type": "screen", "name": "Home", "properties": {}, "context": context}
                event["messageId"] = message_id
                event["timestamp"] = clock.stamp_ms(ms)
                event["anonymousId"] = "a"
                trays.put(ms, message_id, event, someone, None)  # type: ignore[arg-type]
            yield env.timeout(t - env.now + 600.0)

    for k in range(processes):
        env.process(person(k, SimpleNamespace(context="home")))
    started = time.perf_counter()
    env.run(until=sessions * 3600.0)
    trays.drain()
    writer.close()
    return writer.count / (time.perf_counter() - started)


def full_model(folder: Path) -> tuple[float, int]:
    """Events/s of the persona world writing its trace (population scenario)."""
    scenario = load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(
        persons=PERSONS, days=DAYS
    )
    world = World(scenario)
    sink = TraceSink(folder / "trace.jsonl.gz")
    world.events_released.add_listener(sink.on_events)
    started = time.perf_counter()
    play(world)
    events = sink.close()
    return events / (time.perf_counter() - started), events


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model, bare, ratios, ceilings = [], [], [], []
        for _ in range(ROUNDS):
            rate, events = full_model(folder)
            floor = bare_loop(events)
            ceiling = emit_only(folder, events)
            model.append(rate)
            bare.append(floor)
            ratios.append(rate / floor)
            ceilings.append(ceiling / floor)
    return [
        Result("world events/s (population, trace written)", statistics.median(model), "events/s"),
        Result("bare SimPy timeouts/s (same run)", statistics.median(bare), "events/s"),
        # A sub-part's figure, not a target (issue 16): bench_scale's person-days/s is the measure.
        Result("world / bare SimPy", statistics.median(ratios), "x"),
        Result(
            "emitting alone, no behaviour (ceiling) / bare SimPy",
            statistics.median(ceilings),
            "x",
            note="the event machinery with nothing decided",
        ),
    ]
