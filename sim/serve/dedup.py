"""The de-duplication window: which ``messageId``s were stored lately, in 12-24 bytes each.

Picture a cloakroom with two racks of numbered hooks. Each stored event hangs
a 64-bit tag (the id's keyed hash) on the *current* rack; an arriving id is a
duplicate when its tag hangs on either rack. When the current rack holds
``max_ids`` tags, or its oldest tag is older than ``window_seconds`` of event
time, the older rack is emptied and the racks swap. So an id is remembered at
least while it is among the newest ``max_ids`` ids *and* within
``window_seconds`` of the newest event time (at most twice as long), and the
memory is bounded by two racks of ``max_ids`` tags.

A rack is an open-addressing hash table in a numpy ``uint64`` array (linear
probing, at most two-thirds full, 0 marks an empty hook): no Python object
per id, 12-24 bytes per remembered id against ~120 for a ``str`` in a ``set``.

The tag is Python's own ``hash(str)`` (SipHash, keyed with a random per-process
seed) with its low bit set: fast, and not steerable by a client who wants two
ids to collide. The window is rebuilt from the log on every start, so a tag
never needs to be stable across processes. Two different ids share a tag with probability
~``remembered / 2**63`` per lookup (~1e-13 for a million ids): the only way
this window can call a new event a duplicate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Keys = list[int]

DEFAULT_MAX_IDS = 1_000_000
DEFAULT_WINDOW_SECONDS = 24 * 3600.0
_FIRST_CAPACITY = 1024
_MASK64 = (1 << 64) - 1


def tags(ids: Sequence[str]) -> Keys:
    """The 64-bit tag of each id: its ``hash`` with the low bit set (0 marks an empty hook)."""
    return [(hash(i) & _MASK64) | 1 for i in ids]


class Rack:
    """One generation: an open-addressing table of tags, at most two-thirds full.

    NOTE: the hooks live in a numpy array (zeroed lazily by the OS, grown by a
    vectorised re-hash) but are probed one tag at a time through a
    ``memoryview``: a request's hundred look-ups cost ~30 us of plain Python,
    where numpy's calls on such small arrays cost more and release the GIL to
    the writer threads mid-request. Equivalence with a set: tests/serve/test_dedup.py.
    """

    def __init__(self, capacity: int = _FIRST_CAPACITY) -> None:
        self.hooks: npt.NDArray[np.uint64] = np.zeros(capacity, dtype=np.uint64)
        self._view = self.hooks.data
        self.count = 0
        self.oldest = math.inf
        self.newest = -math.inf

    def contains(self, keys: Keys) -> list[bool]:
        """For each tag: is it on this rack?"""
        if not self.count:
            return [False] * len(keys)
        view, mask = self._view, len(self.hooks) - 1
        out = []
        for key in keys:
            pos = key & mask
            while True:
                here = view[pos]
                if here == key:
                    out.append(True)
                    break
                if here == 0:
                    out.append(False)
                    break
                pos = (pos + 1) & mask
        return out

    def add(self, keys: Keys, stamp: float) -> None:
        """Hang tags not yet on the rack (growing it to stay at most two-thirds full)."""
        if not keys:
            return
        if 3 * (self.count + len(keys)) > 2 * len(self.hooks):
            capacity = len(self.hooks)
            while 3 * (self.count + len(keys)) > 2 * capacity:
                capacity *= 2
            old = self.hooks[self.hooks != 0]
            self.hooks = np.zeros(capacity, dtype=np.uint64)
            self._view = self.hooks.data
            _place(self.hooks, old)
        view, mask = self._view, len(self.hooks) - 1
        for key in keys:
            pos = key & mask
            while view[pos]:
                pos = (pos + 1) & mask
            view[pos] = key
        self.count += len(keys)
        self.oldest = min(self.oldest, stamp)
        self.newest = max(self.newest, stamp)

    @property
    def nbytes(self) -> int:
        return int(self.hooks.nbytes)


def _place(hooks: npt.NDArray[np.uint64], keys: npt.NDArray[np.uint64]) -> None:
    """Linear-probing insert of many tags at once (re-hash on growth); one winner per free
    hook per round."""
    mask = np.uint64(len(hooks) - 1)
    pos = keys & mask
    todo = np.arange(len(keys))
    while todo.size:
        slots = pos[todo]
        free = hooks[slots] == 0
        claimants, claimed = todo[free], slots[free]
        taken, first = np.unique(claimed, return_index=True)
        winners = claimants[first]
        hooks[taken] = keys[winners]
        placed = np.zeros(len(keys), dtype=bool)
        placed[winners] = True
        todo = todo[~placed[todo]]
        pos[todo] = (pos[todo] + np.uint64(1)) & mask


class DedupWindow:
    """Recently stored ``messageId`` tags, bounded by count and by event time."""

    def __init__(
        self, max_ids: int = DEFAULT_MAX_IDS, window_seconds: float = DEFAULT_WINDOW_SECONDS
    ) -> None:
        if max_ids < 1 or window_seconds <= 0:
            raise ValueError("the de-duplication window needs max_ids >= 1 and seconds > 0")
        self.max_ids = max_ids
        self.window_seconds = window_seconds
        self.current = Rack()
        self.previous: Rack | None = None
        self.clock = -math.inf  # newest event time seen (epoch seconds)

    def __len__(self) -> int:
        return self.current.count + (self.previous.count if self.previous else 0)

    @property
    def nbytes(self) -> int:
        """Bytes held by the tag arrays (what grows with the ids remembered)."""
        return self.current.nbytes + (self.previous.nbytes if self.previous else 0)

    def contains(self, keys: Keys) -> list[bool]:
        found = self.current.contains(keys)
        if self.previous is not None:
            older = self.previous.contains(keys)
            found = [a or b for a, b in zip(found, older, strict=True)]
        return found

    def add(self, keys: Keys, stamp: float) -> None:
        """Remember tags (new ones: check :meth:`contains` first) stored at event time ``stamp``."""
        if not keys:
            return
        self.clock = max(self.clock, stamp)
        horizon = self.clock - self.window_seconds
        if self.previous is not None and self.previous.newest < horizon:
            self.previous = None
        stale = self.previous is None and self.current.oldest < horizon
        if self.current.count >= self.max_ids or stale:
            # The older rack (if any) is past a bound: max_ids newer ids stand
            # on the current rack, or it was already dropped as out of time.
            self.previous, self.current = self.current, Rack()
        self.current.add(keys, stamp)
