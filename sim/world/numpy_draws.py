"""numpy's scalar draws, worked out in Python from a block of the bit generator's raw output.

A household is drawn from its own stream: a few dozen coin flips, small
integers and bytes for its place, its people and their devices, each asked
of numpy one call at a time. A call costs a microsecond or two (ten with
``size=``), far more than the arithmetic of the draw. :class:`NumpyDraws`
does that arithmetic itself, as numpy's C code does it, on the generator's
64-bit outputs fetched 128 at a time (``random_raw``):

- ``random()``: the top 53 bits of one output, scaled to [0, 1);
- a 32-bit word: the low half of an output, its high half kept for the
  next word (numpy's PCG64 keeps it the same way);
- ``integers(low, high)``: Lemire's multiply-and-reject on 32-bit words,
  no word at all when the range holds one number.

So every number is the one numpy's ``Generator`` would give, in the same
order (``tests/world/test_build_speed.py`` holds it to numpy's own draws, so
a numpy that draws another way fails there, not in a run). The stream is read ahead by up to a block, so a ``NumpyDraws`` must
be the only reader of its bit generator, and the bit generator is of no use
afterwards: it suits a stream that is drawn from once and dropped.
"""

from __future__ import annotations

import numpy as np

BLOCK = 128  # raw 64-bit outputs fetched at a time (a household reads about 130)
WORD = 0xFFFFFFFF
TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53, as numpy's next_double


class NumpyDraws:
    """``Generator.random()``, ``integers(low, high)`` and byte draws of one fresh stream."""

    # NOTE: numpy's random() and bounded integers redone in Python on raw blocks (test_build_speed.py).
    __slots__ = ("_at", "_bits", "_half", "_outputs", "_written")

    def __init__(self, bits: np.random.BitGenerator) -> None:
        self._bits = bits
        self._outputs = memoryview(b"")  # the block of raw outputs being read
        self._written = b""  # the same block, each output 8 bytes, little end first
        self._at = BLOCK  # the next output to read (none yet: a block is fetched first)
        self._half = -1  # the high half of the last output split into words (-1: none kept)

    def _fill(self) -> None:
        block = self._bits.random_raw(BLOCK)
        self._outputs, self._at = block.data, 0
        self._written = block.astype("<u8", copy=False).tobytes()

    def _next64(self) -> int:
        at = self._at
        if at == BLOCK:
            self._fill()
            at = 0
        self._at = at + 1
        return self._outputs[at]

    def _next32(self) -> int:
        half = self._half
        if half >= 0:
            self._half = -1
            return half
        value = self._next64()
        self._half = value >> 32
        return value & WORD

    def random(self) -> float:
        """A uniform on [0, 1): ``Generator.random()``."""
        at = self._at  # _next64, written out: the most frequent draw
        if at == BLOCK:
            self._fill()
            at = 0
        self._at = at + 1
        return (self._outputs[at] >> 11) * TO_UNIT

    def integers(self, low: int, high: int | None = None) -> int:
        """An integer in [low, high) (or [0, low)): ``Generator.integers``, ranges up to 2**32."""
        if high is None:
            low, high = 0, low
        if low >= high:
            raise ValueError(f"low >= high ({low} >= {high})")
        span = high - low - 1  # numpy's inclusive range
        if span == 0:
            return low
        if span > WORD:
            raise ValueError(f"NumpyDraws draws ranges of at most 2**32 numbers, not {span + 1}")
        if span == WORD:
            return low + self._next32()
        size = span + 1
        product = self._next32() * size
        if product & WORD < size:  # the rare low draws Lemire's method may reject
            threshold = (WORD - span) % size
            while product & WORD < threshold:
                product = self._next32() * size
        return low + (product >> 32)

    def hex_ids(self, *lengths: int) -> list[str]:
        """``devices.hex_ids``: each id ``(length + 1) // 2`` bytes drawn as ``integers(0, 256)``."""
        if len(lengths) == 1:
            return [self._bytes((lengths[0] + 1) // 2).hex()[: lengths[0]]]
        digits = self._bytes(sum([(length + 1) // 2 for length in lengths])).hex()
        ids, at = [], 0
        for length in lengths:
            ids.append(digits[at : at + length])
            at += length + length % 2  # an odd length leaves its last byte's second digit
        return ids

    def _bytes(self, count: int) -> bytes:
        """``count`` draws of ``integers(0, 256)``: the top byte of a word each.

        256 divides 2**32, so Lemire's method never rejects and keeps the
        word's top byte. A whole output gives two words, low half first:
        its bytes 3 and 7 as written little end first.
        """
        at = self._at
        if self._half < 0 and count % 2 == 0 and at + count // 2 <= BLOCK:  # whole outputs at hand
            self._at = at + count // 2
            return self._written[8 * at + 3 : 8 * at + 4 * count : 4]
        out = b""
        if count and self._half >= 0:
            out += bytes([self._next32() >> 24])
            count -= 1
        pairs, odd = divmod(count, 2)
        while pairs:
            if self._at == BLOCK:
                self._fill()
            take = min(pairs, BLOCK - self._at)
            out += self._written[8 * self._at + 3 : 8 * (self._at + take) : 4]
            self._at += take
            pairs -= take
        if odd:
            out += bytes([self._next32() >> 24])
        return out
