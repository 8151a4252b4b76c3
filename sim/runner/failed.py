"""What a worker process sends instead of an answer when its shard raised.

A module of its own, importing nothing of the world: a Dask worker that
relays a shard's answer (:mod:`sim.runner.relay`) reads a failure, or a
worker process's silence, without importing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from multiprocessing.connection import Connection

from sim.errors import HopsimError


@dataclass
class WorkerFailed:
    """A worker's traceback, handed to the runner, which raises it with the worker's name."""

    text: str


def received_bytes(name: str, conn: Connection) -> bytes:
    """A worker process's next answer, as sent; its silence is an error naming it."""
    try:
        return conn.recv_bytes()
    except EOFError:
        raise stopped(name) from None
    except OSError as exc:  # a shard's child died mid-answer
        raise broken(name, exc) from None


def stopped(name: str) -> HopsimError:
    """The error for a worker process gone without an answer."""
    return HopsimError(f"{name} stopped without a result")


def broken(name: str, exc: BaseException) -> HopsimError:
    """The error for an answer cut off or garbled on its way."""
    return HopsimError(
        f"{name} sent a broken answer ({exc}): did its shard's child die while sending?"
    )
