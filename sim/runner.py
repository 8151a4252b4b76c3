"""One run of a scenario: the object that wires config, seed, world, engine and collectors.

Like Locust's Environment, a ``Run`` holds everything a run needs and nothing
reaches across layers: the world fires events, the trace sink and the engine
listen, and the collectors turn what happened into the run folder's files.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.analysis.realism import funnel, switch_rate, top_paths
from sim.trace.events import iso_ms
from sim.trace.sink import TraceSink
from sim.trace.writer import write_jsonl, write_jsonl_gz
from sim.world.people import Person
from sim.world.scenario import Scenario
from sim.world.world import World

Progress = Callable[[float, int], None]
SWITCH_SOURCE = (
    "Google, The New Multi-screen World (2012): 98% of sequential screeners"
    " move between devices in a day"
)


def default_out(scenario: Scenario, root: Path = Path("reports")) -> Path:
    return root / f"{scenario.name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"


@dataclass
class ContextLog:
    """Collects each person's context bands (ground truth, for the day-in-the-life figure)."""

    world: World
    open: dict[str, tuple[str, float]] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def on_change(self, person: Person, context: str, at: float) -> None:
        self._close(person.id, at)
        self.open[person.id] = (context, at)

    def _close(self, person_id: str, at: float) -> None:
        if person_id in self.open:
            context, start = self.open.pop(person_id)
            if at > start:
                clock = self.world.clock
                self.rows.append(
                    {
                        "person_id": person_id,
                        "context": context,
                        "start": clock.stamp(start),
                        "end": clock.stamp(at),
                    }
                )

    def finish(self, at: float) -> list[dict[str, Any]]:
        for person_id in list(self.open):
            self._close(person_id, at)
        return sorted(self.rows, key=lambda r: (r["person_id"], r["start"]))


class Run:
    """Simulate a scenario into ``out``: trace, truth, summary and friends."""

    def __init__(self, scenario: Scenario, out: Path) -> None:
        self.scenario = scenario
        self.out = out
        self.world = World(scenario)
        self.summary: dict[str, Any] = {}

    def execute(self, progress: Progress | None = None) -> dict[str, Any]:
        self.out.mkdir(parents=True, exist_ok=True)
        world = self.world
        sink = TraceSink(self.out / "trace.jsonl.gz")
        contexts = ContextLog(world)
        world.event_emitted.add_listener(sink.on_event)
        world.context_changed.add_listener(contexts.on_change)
        started = time.perf_counter()
        world.start()
        step = 3600.0
        now = 0.0
        while now < world.end:
            now = min(world.end, now + step)
            world.step_until(now)
            if progress:
                progress(now / world.end, world.events)
        events = sink.close()
        wall = time.perf_counter() - started
        self._write_truth(contexts.finish(world.end))
        self.summary = self._summary(events, wall)
        (self.out / "summary.json").write_text(
            json.dumps(self.summary, indent=2, sort_keys=True) + "\n"
        )
        return self.summary

    def _write_truth(self, contexts: list[dict[str, Any]]) -> None:
        world = self.world
        write_jsonl_gz(self.out / "truth.jsonl.gz", (d.truth(p) for d, p in world.devices()))
        write_jsonl_gz(self.out / "contexts.jsonl.gz", contexts)
        write_jsonl(self.out / "people.jsonl", (self._person_row(p) for p in world.people()))
        write_jsonl(self.out / "journeys.jsonl", self._journey_rows())

    def _person_row(self, person: Person) -> dict[str, Any]:
        named = {n.name for n in self.scenario.people if n.name}
        return {
            "person_id": person.id,
            "household_id": person.household_id,
            "persona": person.persona.name,
            "name": person.name,
            "named": person.name in named,
            "locale": person.locale,
            "timezone": person.timezone,
            "region": person.region,
            "devices": [d.id for d in person.devices],
            "orders": person.journey.orders,
            "revenue": round(person.journey.revenue, 2),
        }

    def _journey_rows(self) -> list[dict[str, Any]]:
        rows = []
        for person in self.world.people():
            for trail, at, total in person.journey.paths:
                rows.append(
                    {
                        "person_id": person.id,
                        "persona": person.persona.name,
                        "path": list(trail),
                        "at": iso_ms(self.world.clock.at(at)),
                        "total": total,
                    }
                )
        return rows

    def _summary(self, events: int, wall: float) -> dict[str, Any]:
        world = self.world
        people = list(world.people())
        devices = [d for d, _ in world.devices()]
        return {
            "scenario": self.scenario.name,
            "seed": self.scenario.seed,
            "days": self.scenario.days,
            "start": iso_ms(self.scenario.start),
            "persons": len(people),
            "households": len(world.households),
            "devices": len(devices),
            "events": events,
            "wall_seconds": round(wall, 3),
            "events_per_second": round(events / wall, 1) if wall > 0 else 0.0,
            "device_types": dict(sorted(Counter(d.type for d in devices).items())),
            "personas": dict(sorted(Counter(p.persona.name for p in people).items())),
            "realism": {
                "switch_rate": round(switch_rate(people), 4),
                "switch_rate_published": 0.98,
                "switch_rate_source": SWITCH_SOURCE,
            },
            "funnel": funnel(people),
            "journeys": {
                "orders": sum(p.journey.orders for p in people),
                "top_paths": top_paths(people),
            },
        }
