"""Trays hold planned events until their minute is over, then release them in trace order."""

from __future__ import annotations

from typing import Any

import simpy

from sim.world.trays import Trays


class Someone:
    context = "home.kitchen"


def running() -> tuple[simpy.Environment, Trays, list[list[str]]]:
    """Trays on a SimPy clock, recording each release as its message ids."""
    env = simpy.Environment()
    released: list[list[str]] = []
    trays = Trays(lambda events, entries: released.append([e["messageId"] for e in events]))
    env.process(trays.run(env))
    return env, trays, released


def put(trays: Trays, ms: int, message_id: str) -> None:
    event: dict[str, Any] = {"messageId": message_id}
    trays.put(ms, message_id, event, Someone(), None)  # type: ignore[arg-type]


def test_a_minute_comes_out_sorted_by_time_then_message_id_once_it_is_over() -> None:
    env, trays, released = running()
    put(trays, 61_000, "late")
    put(trays, 5_000, "b")
    put(trays, 5_000, "a")
    put(trays, 1_000, "z")
    env.run(until=59.0)
    assert released == []
    env.run(until=61.0)
    assert released == [["z", "a", "b"]]
    env.run(until=121.0)
    assert released == [["z", "a", "b"], ["late"]]
    assert len(trays) == 0


def test_drain_lets_out_what_lies_past_the_end_in_order() -> None:
    env, trays, released = running()
    put(trays, 10_000, "a")
    put(trays, 600_000, "c")
    put(trays, 200_000, "b")
    env.run(until=60.0)
    trays.drain()
    assert released == [["a"], ["b"], ["c"]]
    assert len(trays) == 0
