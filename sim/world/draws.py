"""A person's scalar random numbers, dealt from their own stream a block at a time.

Asking numpy for one number at a time costs about a microsecond per call,
more than the arithmetic of most decisions it feeds. So each person keeps a
small hand of uniforms and standard normals drawn from their own generator in
one call (64 of each, packed as doubles), and deals from it: a coin flip, a gap between screens, a pick from
a list. Every number still comes from the person's stream in a fixed order,
so the same seed gives the same life.
"""

from __future__ import annotations

import math
from array import array

import numpy as np

BLOCK = 64  # a person holds 2 x 64 doubles (about 1 KB); 100k people about 100 MB


class Draws:
    """Scalar draws for one person: ``random``, ``below``, ``lognormal`` and friends."""

    __slots__ = ("_normals", "_rng", "_uniforms")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._uniforms = array("d")
        self._normals = array("d")

    def random(self) -> float:
        """Uniform on [0, 1)."""
        uniforms = self._uniforms
        if not uniforms:
            uniforms = self._uniforms = array("d", self._rng.random(BLOCK).tobytes())
        return uniforms.pop()

    def normal(self) -> float:
        """Standard normal."""
        normals = self._normals
        if not normals:
            normals = self._normals = array("d", self._rng.standard_normal(BLOCK).tobytes())
        return normals.pop()

    def below(self, n: int) -> int:
        """An integer in ``range(n)``, each equally likely."""
        return int(self.random() * n)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def lognormal(self, mu: float, sigma: float) -> float:
        return math.exp(mu + sigma * self.normal())

    def exponential(self, scale: float) -> float:
        """Exponential with mean ``scale`` (``1 - u`` is never zero)."""
        return -scale * math.log(1.0 - self.random())
