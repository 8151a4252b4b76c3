"""The garbage collector's pace while a shard simulates, and where it is held off.

A simulated hour makes and drops hundreds of thousands of small dicts
(events, contexts, SimPy timeouts). By default CPython's collector scans the
young generation after every 700 new container objects, and each of those
scans also ages the long-lived world and engine state toward the older
generations; a larger young generation does the same work in fewer, cheaper
passes. This is a process-wide setting, so only the entry point of a run or
of a worker process turns it on, for the length of the simulation, and puts
the previous thresholds back afterwards.

Where a large structure is made, kept to the end and dropped at once, the
collector is held off altogether (:func:`hold_collections`): a shard's world,
the runner's identity graph while it is absorbed and finalized, and the
merge process, which reads the tables, scores and ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# NOTE: speed only, no output changes: ~5% less CPU per run (benchmarks/RESULTS.md, GC young generation).
YOUNG = 20_000


@contextmanager
def fewer_collections(young: int = YOUNG) -> Iterator[None]:
    """Let the young generation grow to ``young`` objects before the collector looks at it."""
    old = gc.get_threshold()
    gc.set_threshold(young, old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def hold_collections() -> bool:
    """No collections while a shard lives: a worker holds one world, built, lived and let go.

    The world is cycles (people, their processes, the SimPy calendar), kept
    to the end; a day makes little cyclic garbage besides (2 KB per
    person-day measured). Collecting meanwhile traverses every survivor once
    young and again middle-aged, for nothing: one collection when the shard
    is done (:func:`let_go`) frees the whole world in one pass. Returns
    whether the collector was on, for :func:`let_go` to put it back.
    """
    # NOTE: speed only, same bytes (tests/test_gc.py): ~9% less CPU at 20k x 1 (benchmarks/RESULTS.md, gcdet).
    was_on = gc.isenabled()
    gc.disable()
    return was_on


def let_go(was_on: bool) -> None:
    """What was held (a shard's world, the identity graph) freed in one collection; the
    collector as it was."""
    gc.collect()
    resume(was_on)


def resume(was_on: bool) -> None:
    """The collector as it was, without a collection (a failure still holds what was kept)."""
    if was_on:
        gc.enable()
