"""What a worker process sends instead of an answer when its shard raised.

A module of its own, importing nothing: a Dask worker that relays a shard's
answer (:mod:`sim.runner.relay`) reads a failure without importing the world.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class WorkerFailed:
    """A worker's traceback, handed to the runner, which raises it with the worker's name."""

    text: str
