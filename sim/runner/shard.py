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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.analysis.compare_programme import programme_counts
from sim.analysis.journey_metrics import JourneyTally, trace_tally
from sim.analysis.journeys import shard_block as journey_block
from sim.analysis.messaging import summary as messaging_summary
from sim.analysis.realism import funnel
from sim.engine.engine import Engine, load_identity_config
from sim.engine.identity import IdentityGraph
from sim.engine.identity.shards import ShardIdentity
from sim.engine.messaging import build_messaging
from sim.runner.gc import fewer_collections
from sim.runner.pool import FilePool
from sim.runner.tables import write_parts
from sim.trace.clock import DAY, iso_ms
from sim.trace.events import SegmentEvent
from sim.trace.parts import read_part
from sim.trace.reader import check_event, parse_line, read_events
from sim.trace.sink import OrderedSink, TraceSink
from sim.trace.truth import owners_of_rows
from sim.trace.writer import JsonlGzWriter
from sim.world.life import start_lives
from sim.world.people import Person
from sim.world.reactions import attach
from sim.world.scenario import Scenario
from sim.world.world import World

Progress = Callable[[float, int], None]
STEP = 3600.0


@dataclass(frozen=True)
class Slice:
    """What a shard says after a slice of simulated time: how far, how many events, and
    (at midnight) what its profiles taught the workspace that day."""

    share: float
    events: int
    learned: list[float] | None


@dataclass(frozen=True)
class Pooled:
    """The whole run's learning for the day just ended (``None`` inside: nobody learns)."""

    total: list[float] | None


@dataclass
class ShardResult:
    """What a worker hands back: its trace file and the tables of what happened."""

    index: int
    trace: Path
    events: int
    wall_seconds: float
    contexts: Path | None = None
    journeys: list[dict[str, Any]] = field(default_factory=list)
    tallies: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    messaging: dict[str, Any] = field(default_factory=dict)
    journey_steps: list[dict[str, Any]] = field(default_factory=list)
    programs: dict[str, Any] = field(default_factory=dict)
    identity: ShardIdentity | None = None
    metrics: JourneyTally | None = None
    """The journey metrics' tally of the shard's own events (:mod:`sim.analysis.journey_metrics`)."""
    tables: list[Path] = field(default_factory=list)
    """The shard's truth, people and journey rows, sorted and encoded for the run's tables
    (:mod:`sim.runner.tables`): the truth and people rows travel no other way."""


class ContextLog:
    """Each person's context bands, streamed to a file (ground truth, for the day-in-the-life figure)."""

    def __init__(self, world: World, path: Path) -> None:
        self.world = world
        self.sink = OrderedSink(JsonlGzWriter(path), "end", "person_id")
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


class Shard:
    """One worker's share of a run, advanced a slice of simulated time at a time.

    The runner (:func:`sim.runner.workers.drive`) moves every shard to the end
    of a day, then lets them agree on what the whole workspace learned that
    day (the send-time fallback) before any of them starts the next: lockstep
    by day, like a night shift that pools the day's numbers before the
    morning. A one-shard run does the same with its own numbers, so campaign
    decisions never depend on how the households were dealt.

    The wiring is all through the world's hooks: the trace sink and the
    engine listen on ``events_released``, the context log on
    ``context_changed``; the messaging loop, when the scenario has campaigns,
    ticks the engine every simulated minute and answers through ``world.emit``.
    """

    def __init__(self, scenario: Scenario, folder: Path, index: int, count: int) -> None:
        self.started = time.perf_counter()
        self.scenario = scenario
        self.index, self.count = index, count
        self.world = world = World(scenario, shard=(index, count))
        self.messaging = build_messaging(
            scenario.campaigns, str(scenario.path), scenario.journeys, scenario.programme
        )
        self.graph = IdentityGraph(load_identity_config(dict(scenario.identity)))
        self.engine = Engine(identity=self.graph, messaging=self.messaging)
        if self.messaging is not None and count > 1:  # paced broadcasts: one wave, all shards
            self.messaging.pool = FilePool(folder / "pool", index, count)
        # One shard is the run: its trace is final. Several write parts for the merge.
        part = count > 1
        self.trace = folder / (f"trace-{index}.part" if part else f"trace-{index}.jsonl.gz")
        self.sink = TraceSink(self.trace, part=part)
        self.contexts = ContextLog(world, folder / f"contexts-{index}.jsonl.gz")
        world.events_released.add_listener(self.sink.on_events)
        # Every shard stitches its own households as they act; the runner absorbs the graphs.
        world.events_released.add_listener(self._ingest)
        world.context_changed.add_listener(self.contexts.on_change)
        self.loop = None
        if self.messaging is not None:  # the closed loop: deliveries reach devices, people react
            self.loop = attach(world, self.engine, self.messaging)
        start_lives(world)
        self.now = 0.0

    def _ingest(self, *, events: list[SegmentEvent]) -> None:
        ingest = self.engine.ingest
        for event in events:
            ingest(event)

    @property
    def days(self) -> int:
        return self.scenario.days

    def advance(self, until: float, progress: Progress | None = None) -> None:
        """Simulate up to ``until`` seconds, an hour at a time (for the progress bar)."""
        world = self.world
        until = min(until, world.end)
        while self.now < until:
            self.now = min(until, self.now + STEP)
            world.step_until(self.now)
            if progress is not None:
                progress(self.now / world.end, world.events)

    def learned(self) -> list[float] | None:
        """What this shard's profiles taught the workspace since the last roll."""
        if self.messaging is None:
            return None
        return self.messaging.workspace_learned_since_roll()

    def roll(self, total: list[float] | None) -> None:
        """Adopt the whole run's learning for the day just ended."""
        if self.messaging is not None and total is not None:
            self.messaging.roll_workspace(total)

    def step(self, until: float, pooled: Pooled | None = None) -> Slice:
        """Adopt the run's learning for the day just ended (when given), then simulate to ``until``.

        This is the one unit of work every way of running shards repeats
        (:mod:`sim.runner.workers`): in this process, in a worker process, or
        as an actor on a cluster. A slice that ends at midnight reports what
        the shard learned that day, for the runner to pool.
        """
        with fewer_collections():
            if pooled is not None:
                self.roll(pooled.total)
            self.advance(until)
        midnight = self.now >= self.world.end or self.now % DAY == 0
        learned = self.learned() if midnight else None
        return Slice(self.now / self.world.end, self.world.events, learned)

    def finish(self, pooled: Pooled | None = None) -> ShardResult:
        """Adopt the last day's pooled learning, close the files, hand back the tables."""
        if pooled is not None:
            self.roll(pooled.total)
        world = self.world
        world.finish()
        events = self.sink.close()
        truth = [device.truth(persona) for device, persona in world.devices()]
        self.contexts.finish(world.end)
        result = ShardResult(self.index, self.trace, events, 0.0, self.contexts.sink.writer.path)
        named = {n.name for n in self.scenario.people if n.name}
        people = [person_row(p, p.name in named) for p in world.people()]
        result.journeys = journey_rows(world)
        result.tallies = tallies(world)
        owners = owners_of_rows(truth)  # who owns each device: one index for every reader below
        if self.loop is not None and self.messaging is not None:
            result.messages = self.loop.rows()
            conversions = self.loop.click_conversions()
            result.messaging = messaging_summary(
                self.loop.tally, conversions, self.messaging, owners
            )
            programme = programme_counts(self.messaging, owners, people)
            if programme:  # a global control group: the whole programme's lift
                result.messaging["programme"] = programme
            result.programs = journey_block(self.messaging, self.loop.tally, owners)
            result.journey_steps = self.messaging.journey_rows()
        start = self.scenario.start.timestamp()
        result.metrics = trace_tally(own_events(self.trace), owners, result.messages, start)
        result.identity = self.graph.export()
        rows = (truth, people, result.journeys)
        result.tables = write_parts(self.trace.parent, self.index, rows)
        result.wall_seconds = time.perf_counter() - self.started
        return result


def own_events(trace: Path) -> Iterator[SegmentEvent]:
    """A shard's events read back from its trace (a part, or with one shard the run's trace).

    The journey metrics read them as an analytics tool reads a trace: the
    written lines, shape-checked, in trace order, never the world's objects.
    """
    if trace.suffix != ".part":
        yield from read_events(trace)
        return
    for number, (_, _, line) in enumerate(read_part(trace), start=1):
        yield check_event(trace, number, parse_line(trace, number, line))


def person_row(person: Person, named: bool) -> dict[str, Any]:
    return {
        "person_id": person.id,
        "household_id": person.household_id,
        "persona": person.persona.name,
        "name": person.name,
        "named": named,
        "age": person.age,
        "locale": person.locale,
        "country": person.country,
        "timezone": person.timezone,
        "region": person.region,
        "city": person.city,
        "commute": person.commute,
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
    people = list(world.people())
    devices = [d for d, _ in world.devices()]
    return {
        "persons": len(people),
        "households": len(world.households),
        "devices": len(devices),
        "device_types": Counter(d.type for d in devices),
        "personas": Counter(p.persona.name for p in people),
        "outcomes": world.outcomes.counts(),
        "funnel": Counter(funnel(people)),
        "orders": sum(p.journey.orders for p in people),
    }
