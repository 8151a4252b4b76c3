"""One shard of a run: a share of the households simulated in one process.

A run with ``--workers 3`` deals the households like cards to three players
(household i goes to worker i mod 3). Each worker runs its own SimPy world and
its own in-process engine for the closed messaging loop, writes its part of
the trace, and hands back small tables. Households never share a device or an
address at home, so the events of a household do not depend on which worker
simulated it: the merged trace is the same for any number of workers.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.trace.events import iso_ms
from sim.trace.sink import OrderedSink, TraceSink
from sim.world.people import Person
from sim.world.scenario import Scenario
from sim.world.world import World

Progress = Callable[[float, int], None]
STEP = 3600.0


@dataclass
class ShardResult:
    """What a worker hands back: its trace file and the tables of what happened."""

    index: int
    trace: Path
    events: int
    wall_seconds: float
    truth: list[dict[str, Any]] = field(default_factory=list)
    contexts: Path | None = None
    people: list[dict[str, Any]] = field(default_factory=list)
    journeys: list[dict[str, Any]] = field(default_factory=list)
    tallies: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    messaging: dict[str, Any] = field(default_factory=dict)
    profiles: list[dict[str, Any]] = field(default_factory=list)
    identity_stats: dict[str, Any] = field(default_factory=dict)


class ContextLog:
    """Each person's context bands, streamed to a file (ground truth, for the day-in-the-life figure)."""

    def __init__(self, world: World, path: Path) -> None:
        self.world = world
        self.sink = OrderedSink(path, "end", "person_id")
        self.open: dict[str, tuple[str, float]] = {}

    def on_change(self, person: Person, context: str, at: float) -> None:
        self._close(person.id, at)
        self.open[person.id] = (context, at)

    def _close(self, person_id: str, at: float) -> None:
        if person_id not in self.open:
            return
        context, start = self.open.pop(person_id)
        if at > start:
            stamp = self.world.clock.stamp
            self.sink.add(
                {
                    "person_id": person_id,
                    "context": context,
                    "start": stamp(start),
                    "end": stamp(at),
                }
            )

    def finish(self, at: float) -> int:
        for person_id in sorted(self.open):
            self._close(person_id, at)
        return self.sink.close()


def simulate_shard(
    scenario: Scenario, folder: Path, index: int, count: int, progress: Progress | None = None
) -> ShardResult:
    """Simulate households ``index, index + count, ...`` into ``folder/trace-<index>.jsonl.gz``."""
    from sim.engine.engine import Engine
    from sim.engine.messaging import build_messaging

    started = time.perf_counter()
    world = World(scenario, shard=(index, count))
    messaging = build_messaging(scenario.campaigns, f"{scenario.path}: campaigns")
    engine = Engine(dict(scenario.identity), messaging=messaging)
    path = folder / f"trace-{index}.jsonl.gz"
    sink = TraceSink(path)
    contexts = ContextLog(world, folder / f"contexts-{index}.jsonl.gz")
    world.event_emitted.add_listener(sink.on_event)
    if messaging is not None or count == 1:
        # The engine runs in the loop when messages need it or when this shard is the run.
        world.event_emitted.add_listener(lambda event, **_: engine.ingest(event))
    world.context_changed.add_listener(contexts.on_change)
    loop = _attach_messaging(world, engine) if messaging is not None else None
    world.start()
    _advance(world, progress)
    events = sink.close()
    truth = [device.truth(persona) for device, persona in world.devices()]
    contexts.finish(world.end)
    result = ShardResult(index, path, events, 0.0, truth, contexts.sink.writer.path)
    named = {n.name for n in scenario.people if n.name}
    result.people = [person_row(p, p.name in named) for p in world.people()]
    result.journeys = journey_rows(world)
    result.tallies = tallies(world)
    if loop is not None:
        result.messages = loop.rows()
        result.messaging = loop.summary(truth)
    if count == 1:
        engine.identity.finalize()  # type: ignore[attr-defined]
        result.profiles = [p.as_json() for p in engine.identity.profiles()]
        result.identity_stats = engine.identity.stats()  # type: ignore[attr-defined]
    result.wall_seconds = time.perf_counter() - started
    return result


def _attach_messaging(world: World, engine: Any) -> Any:
    """The closed loop: deliveries reach simulated devices and people react."""
    from sim.world.reactions import attach

    return attach(world, engine)


def _advance(world: World, progress: Progress | None) -> None:
    now = 0.0
    while now < world.end:
        now = min(world.end, now + STEP)
        world.step_until(now)
        if progress is not None:
            progress(now / world.end, world.events)


def person_row(person: Person, named: bool) -> dict[str, Any]:
    return {
        "person_id": person.id,
        "household_id": person.household_id,
        "persona": person.persona.name,
        "name": person.name,
        "named": named,
        "locale": person.locale,
        "timezone": person.timezone,
        "region": person.region,
        "devices": [d.id for d in person.devices],
        "orders": person.journey.orders,
        "revenue": round(person.journey.revenue, 2),
    }


def journey_rows(world: World) -> list[dict[str, Any]]:
    rows = []
    for person in world.people():
        for trail, at, total in person.journey.paths:
            stamp = iso_ms(world.clock.at(at))
            row = {"person_id": person.id, "persona": person.persona.name, "path": list(trail)}
            rows.append(row | {"at": stamp, "total": total})
    return rows


def tallies(world: World) -> dict[str, Any]:
    """Counts that add up across shards (the summary is computed from their sums)."""
    from sim.analysis.realism import funnel, switch_days

    people = list(world.people())
    devices = [d for d, _ in world.devices()]
    days, switched = switch_days(people)
    return {
        "persons": len(people),
        "households": len(world.households),
        "devices": len(devices),
        "device_types": Counter(d.type for d in devices),
        "personas": Counter(p.persona.name for p in people),
        "switch_days": days,
        "switched_days": switched,
        "funnel": Counter(funnel(people)),
        "orders": sum(p.journey.orders for p in people),
    }
