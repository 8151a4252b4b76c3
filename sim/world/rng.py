"""Independent random streams spawned from one scenario seed.

Like dealing from separate decks: the household that draws its routine jitter
never shifts the cards of the household next door, so adding a person, a
campaign or a worker process leaves everybody else's day unchanged. Every
stream is named by a path of strings and integers and derived from the seed
with numpy's ``SeedSequence``: the stream of path ``p`` is
``Generator(PCG64(SeedSequence(seed, spawn_key=keys(p))))``.

Making that stream the plain way costs about 30 us (numpy builds a
``SeedSequence``, then hashes it out through small arrays), and a person
needs several. The hashing itself is a handful of 32-bit multiplies and
shifts, the same for every stream up to its path: so the seed's share is
mixed once per :class:`Streams`, a path's first word once per name, and
only what differs is hashed per stream, on plain integers (or on numpy
arrays of many keys at once: :meth:`Streams.many`, :meth:`Streams.prepare`). The four 64-bit words
then seed ``PCG64`` directly: the same generator, bit for bit.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from numpy.random.bit_generator import ISeedSequence

# numpy's SeedSequence hash constants (numpy/random/bit_generator.pyx).
MASK = 0xFFFFFFFF
INIT_A = 0x43B0D7E5
MULT_A = 0x931E8875
INIT_B = 0x8B51F9DD
MULT_B = 0x58F38DED
MIX_L = 0xCA01F9DD
MIX_R = 0x4973F715
POOL = 4  # SeedSequence's pool of 32-bit words
Words = npt.NDArray[np.uint64]
W = TypeVar("W", int, Words)  # one stream's word, or many streams' words side by side
Pool = tuple[W, W, W, W]


def _key(part: str | int) -> int:
    if isinstance(part, int):
        return part
    return zlib.crc32(part.encode("utf-8"))


def _words(value: int) -> list[int]:
    """A non-negative integer as numpy reads entropy: 32-bit words, least significant first."""
    if value < 0:
        raise ValueError(f"a random stream's seed and path hold no negative numbers, not {value}")
    words = [value & MASK]
    value >>= 32
    while value:
        words.append(value & MASK)
        value >>= 32
    return words


def _mixed_in(pool: Pool[W], const: int, word: W) -> tuple[Pool[W], int]:
    """The pool after one more entropy ``word`` is hashed into each of its four words."""
    mixed: list[Any] = []  # W's, as in _state
    for old in pool:
        value = word ^ const
        const = (const * MULT_A) & MASK
        value = (value * const) & MASK
        value ^= value >> 16
        new = (MIX_L * old - MIX_R * value) & MASK
        mixed.append(new ^ (new >> 16))
    return (mixed[0], mixed[1], mixed[2], mixed[3]), const


def _seeded(seed: int) -> tuple[Pool[int], int]:
    """The pool once the seed's own words are in, and the hash constant reached."""
    words = _words(seed)
    padded = words[:POOL] + [0] * (POOL - len(words[:POOL]))
    const = INIT_A
    pool = []
    for word in padded:
        value = word ^ const
        const = (const * MULT_A) & MASK
        value = (value * const) & MASK
        pool.append(value ^ (value >> 16))
    for src in range(POOL):
        for dst in range(POOL):
            if src != dst:
                value = pool[src] ^ const
                const = (const * MULT_A) & MASK
                value = (value * const) & MASK
                value ^= value >> 16
                new = (MIX_L * pool[dst] - MIX_R * value) & MASK
                pool[dst] = new ^ (new >> 16)
    mixed: Pool[int] = (pool[0], pool[1], pool[2], pool[3])
    for word in words[POOL:]:
        mixed, const = _mixed_in(mixed, const, word)
    return mixed, const


def _out_constants() -> list[int]:
    """The hash constants ``generate_state`` walks through for eight 32-bit words."""
    const, out = INIT_B, []
    for _ in range(2 * POOL):
        out.append(const)
        const = (const * MULT_B) & MASK
        out.append(const)
    return out


OUT = _out_constants()


def _state(pool: Pool[W]) -> tuple[W, W, W, W]:
    """``generate_state(4, uint64)``: the pool cycled into eight words, paired little end first."""
    halves: list[Any] = []  # W's: numpy's stubs widen uint64 shifts to signed
    for index in range(2 * POOL):
        value = (pool[index % POOL] ^ OUT[2 * index]) * OUT[2 * index + 1] & MASK
        halves.append(value ^ (value >> 16))
    return (
        halves[0] | halves[1] << 32,
        halves[2] | halves[3] << 32,
        halves[4] | halves[5] << 32,
        halves[6] | halves[7] << 32,
    )


class _Hashed(ISeedSequence):
    """A seed sequence already hashed out: hands PCG64 its four words, once."""

    __slots__ = ("_words",)

    def __init__(self, words: Words) -> None:
        self._words: Words | None = words

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> Words:
        words, self._words = self._words, None
        uint64 = dtype is np.uint64 or np.dtype(dtype) == np.uint64
        if words is None or n_words != POOL or not uint64:
            raise ValueError("a hashed stream seeds one PCG64 (four 64-bit words), once")
        return words


def _generator(words: Words) -> np.random.Generator:
    # numpy takes any ISeedSequence here (its documentation); the stubs name only SeedSequence.
    return np.random.Generator(np.random.PCG64(_Hashed(words)))  # type: ignore[arg-type]


class Streams:
    """A factory of ``numpy.random.Generator`` keyed by name, all from one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._pool, self._const = _seeded(seed)
        self._named: dict[int, tuple[Pool[int], int]] = {}
        self._ready: dict[tuple[str | int, ...], Words] = {}  # prepared, not yet handed out

    def get(self, *path: str | int) -> np.random.Generator:
        # NOTE: numpy's SeedSequence hashing on plain integers, shared prefixes kept (test_speed_tricks.py).
        if self._ready:
            ready = self._ready.pop(path, None)
            if ready is not None:
                return _generator(ready)
        pool, const = self._pool, self._const
        keys = [_key(p) for p in path]
        if keys and keys[0] <= MASK:
            pool, const = self._after(keys.pop(0))
        for key in keys:
            for word in _words(key):
                pool, const = _mixed_in(pool, const, word)
        return _generator(np.array(_state(pool), dtype=np.uint64))

    def many(self, name: str, keys: Sequence[str | int]) -> list[np.random.Generator]:
        """``[get(name, key) for key in keys]``, hashed for all keys at once."""
        states = self._hashed(name, keys)
        if states is None:
            return [self.get(name, k) for k in keys]
        return [_generator(row) for row in states]

    def prepare(self, name: str, keys: Sequence[str | int]) -> None:
        """Hash the streams ``get(name, key)`` will make for ``keys`` now, all at once.

        A world about to draw its people prepares their streams; each is
        handed out once, by the first ``get`` that asks for it.
        """
        states = self._hashed(name, keys)
        if states is not None:
            self._ready.update(((name, k), row) for k, row in zip(keys, states, strict=True))

    def _hashed(self, name: str, keys: Sequence[str | int]) -> Words | None:
        """The four seed words of each stream ``(name, key)``, a row per key (None: a long key)."""
        # NOTE: the same hashing on arrays of keys, one numpy pass for all (test_speed_tricks.py).
        words = [_key(k) for k in keys]
        if any(w < 0 or w > MASK for w in words):
            return None
        pool, const = self._after(_key(name))
        start: Pool[Words] = tuple(np.full(len(words), w, dtype=np.uint64) for w in pool)  # type: ignore[assignment]
        mixed, _ = _mixed_in(start, const, np.array(words, dtype=np.uint64))
        return np.stack(_state(mixed), axis=1)

    def _after(self, key: int) -> tuple[Pool[int], int]:
        """The pool and constant once the seed and a path's first word are in."""
        found = self._named.get(key)
        if found is None:
            found = self._named[key] = _mixed_in(self._pool, self._const, key)
        return found

    def integer(self, *path: str | int) -> int:
        """A stable 63-bit integer for seeding other libraries (Faker)."""
        return int(self.get(*path).integers(0, 2**63 - 1))
