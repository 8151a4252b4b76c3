"""Independent random streams spawned from one scenario seed.

Like dealing from separate decks: the household that draws its routine jitter
never shifts the cards of the household next door, so adding a person, a
campaign or a worker process leaves everybody else's day unchanged. Every
stream is named by a path of strings and integers and derived from the seed
with numpy's ``SeedSequence``.
"""

from __future__ import annotations

import zlib

import numpy as np


def _key(part: str | int) -> int:
    if isinstance(part, int):
        return part
    return zlib.crc32(part.encode("utf-8"))


class Streams:
    """A factory of ``numpy.random.Generator`` keyed by name, all from one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def get(self, *path: str | int) -> np.random.Generator:
        sequence = np.random.SeedSequence(self.seed, spawn_key=tuple(_key(p) for p in path))
        return np.random.Generator(np.random.PCG64(sequence))

    def integer(self, *path: str | int) -> int:
        """A stable 63-bit integer for seeding other libraries (Faker)."""
        return int(self.get(*path).integers(0, 2**63 - 1))
