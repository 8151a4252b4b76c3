"""The de-duplication window: exact inside its bounds, forgetful past them, flat in memory."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.serve.dedup import DedupWindow, tags


def remember(window: DedupWindow, ids: list[str], stamp: float) -> list[bool]:
    """The store's use: look the request up, then add what was new (once)."""
    keys = tags(ids)
    known = window.contains(keys)
    fresh = [i for i, k in enumerate(known) if not k and ids[i] not in ids[:i]]
    window.add([keys[i] for i in fresh], stamp)
    return [bool(k) for k in known]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 400), max_size=30), max_size=40), st.integers(50, 300))
def test_the_window_matches_a_set_of_the_newest_ids(
    requests: list[list[int]], max_ids: int
) -> None:
    """Equivalence with the plain model: every id among the newest max_ids is known."""
    window = DedupWindow(max_ids=max_ids)
    order: list[str] = []  # every stored id, oldest first
    for request in requests:
        ids = [f"id-{n}" for n in request]
        known = remember(window, ids, 1.0)
        newest = set(order[-max_ids:])
        everything = set(order)
        for message_id, was_known in zip(ids, known, strict=True):
            if message_id in newest:
                assert was_known, message_id  # never forgotten too early
            if was_known:
                assert message_id in everything  # never invented
        for message_id in ids:
            if message_id not in everything:
                order.append(message_id)
                everything.add(message_id)


def test_memory_is_flat_once_the_window_is_full() -> None:
    window = DedupWindow(max_ids=10_000)
    sizes = []
    for r in range(100):
        remember(window, [f"r{r}-{i}" for i in range(1000)], float(r))
        sizes.append(window.nbytes)
    assert len(window) <= 2 * 10_000 + 1000
    assert max(sizes[30:]) == max(sizes[:30])  # full after ~20 requests: no growth after
    assert window.nbytes / len(window) <= 32


def test_ids_older_than_the_window_are_forgotten_and_newer_ones_kept() -> None:
    window = DedupWindow(max_ids=1_000_000, window_seconds=3600)
    remember(window, ["old"], 0.0)
    remember(window, ["recent"], 3000.0)
    assert remember(window, ["old", "recent"], 3500.0) == [True, True]
    for hour in range(2, 6):
        remember(window, [f"h{hour}"], hour * 3600.0)
    assert remember(window, ["old", "h4", "h5"], 5 * 3600.0) == [False, True, True]


def test_a_random_stream_has_no_false_duplicates() -> None:
    window = DedupWindow(max_ids=50_000)
    rng = random.Random(7)
    ids = [f"{rng.getrandbits(80):x}" for _ in range(100_000)]
    false = sum(sum(remember(window, ids[i : i + 500], 1.0)) for i in range(0, len(ids), 500))
    assert false == 0


def test_long_runs_and_growth_keep_every_tag_findable() -> None:
    """Tags that all want the same hook make one long run, and growing the rack re-hashes
    them with numpy: every stored tag is still found, no other tag is."""
    from sim.serve.dedup import Rack

    rack = Rack(capacity=1024)
    stored = [(k << 20) | 1 for k in range(1, 1500)]
    for first in range(0, len(stored), 100):  # grows 1024 -> 4096 on the way
        rack.add(stored[first : first + 100], 0.0)
    absent = [(k << 20) | 1 for k in range(1500, 1600)]
    assert all(rack.contains(stored))
    assert not any(rack.contains(absent))
    assert rack.contains(absent[:50] + stored[::30]) == [False] * 50 + [True] * len(stored[::30])
