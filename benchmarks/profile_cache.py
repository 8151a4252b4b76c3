"""Is remembering each device's profile worth it? The same events, with and without.

A scenario's run writes its trace; this replays those events, in trace order,
into a fresh Engine with the scenario's identity graph and messaging, once
per variant, and takes the CPU time of ``ingest`` alone (no ticks: the caches sit on the event
path). Each variant runs ``--rounds`` times, alternating; the minimum is
reported. Run it with ``PYTHONHASHSEED=0``:

    PYTHONHASHSEED=0 .venv/bin/python -m benchmarks.profile_cache --persons 300 --days 3
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from sim.engine.engine import Engine, load_identity_config
from sim.engine.messaging import build_messaging
from sim.runner import Run
from sim.trace.events import SegmentEvent
from sim.world.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
Event = SegmentEvent


def events_of(scenario: Scenario) -> list[Event]:
    """The trace a run of ``scenario`` writes, decoded."""
    with tempfile.TemporaryDirectory(prefix="hopsim-cache-") as tmp:
        Run(scenario, Path(tmp)).execute()
        with gzip.open(Path(tmp) / "trace.jsonl.gz", "rb") as lines:
            return [orjson.loads(line) for line in lines]


def engine_for(scenario: Scenario, messaging: bool) -> Engine:
    messenger = build_messaging(scenario.campaigns, "campaigns") if messaging else None
    if messenger is not None:
        messenger.bind_start(scenario.start)
    return Engine(load_identity_config(dict(scenario.identity)), messaging=messenger)


def timed(build: Callable[[], Engine], events: list[Event]) -> float:
    """CPU seconds of ``ingest`` over ``events`` (CPU, not wall: the machine is shared)."""
    engine = build()
    started = time.process_time()
    for event in events:
        engine.ingest(event)
    return time.process_time() - started


class AskAlways:
    """No pins: the graph is asked for every event (what ``DeviceAnswers`` must equal)."""

    def profile_id(
        self, event: Event, epoch: int, resolve: Callable[[Event], str | None]
    ) -> str | None:
        return resolve(event)


def variants(scenario: Scenario) -> dict[str, Callable[[], Engine]]:
    """Each way of answering "whose card is this event for?"."""

    def ask_always() -> Engine:
        engine = engine_for(scenario, messaging=True)
        engine._answers = AskAlways()  # type: ignore[assignment]
        return engine

    return {
        "identity only (no messaging)": lambda: engine_for(scenario, messaging=False),
        "messaging, device pins (DeviceAnswers)": lambda: engine_for(scenario, messaging=True),
        "messaging, no pins (profile_id_for each event)": ask_always,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "population.toml")
    parser.add_argument("--persons", type=int, default=300)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario).with_overrides(persons=args.persons, days=args.days)
    events = events_of(scenario)
    builds = variants(scenario)
    times: dict[str, list[float]] = {name: [] for name in builds}
    for _ in range(args.rounds):
        for name, build in builds.items():
            times[name].append(timed(build, events))
    print(f"{len(events):,} events, {args.persons} persons x {args.days} days, "
          f"min of {args.rounds} rounds")  # fmt: skip
    for name, runs in times.items():
        best = min(runs)
        print(f"{name:<48} {best:8.3f} s  {best / len(events) * 1e6:6.2f} us/event")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
