"""How the identity package packs small facts into ints, in one place.

Evidence cards keep millions of small facts, and pair scoring numbers every
agreement pattern; both pack several small numbers into one int to stay
small and fast. Every module that reads or writes such an int goes through
the named functions here (or, on a per-event path, inlines one of them with
a ``# NOTE: inlined ...`` comment naming it; tests hold each inlined copy to
the function).

- A **meeting** is a (network, three-hour window) pair:
  ``network << WINDOW_BITS | window`` (:func:`meeting`). A **network-day**
  (:func:`network_day`) packs the same way with the day in place of the window.
- A **network count** is what a card keeps per network: events at home time
  ``<< COUNT_BITS``, plus all events (:func:`counted`).
- An **agreement pattern** (home, co-presence level, adjacent, similar) is
  numbered ``((home * LEVELS + level) * FLAGS + adjacent) * FLAGS + similar``,
  each flag its place in (off, agrees, disagrees) (:func:`pattern_code`).
"""

from __future__ import annotations

from array import array

import numpy as np
import numpy.typing as npt

WINDOW_MINUTES = 180
"""Co-presence resolution: two devices on one network in the same three-hour window
(a carrier re-draws a phone's NAT address per outing, so a window ~ one outing)."""
WINDOWS_PER_DAY = 24 * 60 // WINDOW_MINUTES

WINDOW_BITS = 20
"""Low bits of a meeting that hold the window (windows since 1970 stay below 2**20
for centuries); the network number sits above them."""
WINDOW_MASK = (1 << WINDOW_BITS) - 1

COUNT_BITS = 24
"""Low bits of a network count that hold all events; home-time events sit above them."""
COUNT_MASK = (1 << COUNT_BITS) - 1
HOME_EVENT = (1 << COUNT_BITS) + 1
"""What one home-time event adds to a network count (one home-time event, one event)."""
OTHER_EVENT = 1
"""What one event outside home time adds to a network count."""

FLAGS = 3
"""Places of a yes/no field in a pattern: off, agrees, disagrees."""
OFF, AGREES, DISAGREES = 0, 1, 2
LEVELS = 6
"""Places of the co-presence field: off and the five levels of ``scoring.COPRESENCE``."""
SIMILAR_STRIDE = 1
ADJACENT_STRIDE = FLAGS * SIMILAR_STRIDE
LEVEL_STRIDE = FLAGS * ADJACENT_STRIDE
HOME_STRIDE = LEVELS * LEVEL_STRIDE
"""How far a pattern number moves when one field's place moves by one."""


def meeting(network: int, window: int) -> int:
    """The meeting of ``network`` and ``window`` (three-hour windows since 1970)."""
    return network << WINDOW_BITS | window


def meeting_network(pair: int) -> int:
    """The network number of a meeting."""
    return pair >> WINDOW_BITS


def meeting_window(pair: int) -> int:
    """The window of a meeting."""
    return pair & WINDOW_MASK


def network_day(pair: int) -> int:
    """The (network, day) a meeting falls on, packed as a meeting is."""
    return meeting(meeting_network(pair), meeting_window(pair) // WINDOWS_PER_DAY)


def renumber_meetings(pairs: array[int], remap: npt.NDArray[np.int64]) -> array[int]:
    """The meetings ``pairs`` with each network ``n`` renamed ``remap[n]``, order kept.

    NOTE: vectorised :func:`meeting` (``remap[meeting_network(p)]``, ``meeting_window(p)``).
    """
    packed = np.frombuffer(pairs, dtype=np.int64)
    moved = remap[packed >> WINDOW_BITS] << WINDOW_BITS | packed & WINDOW_MASK
    return array("q", moved.tobytes())


def counted(packed: int, home_time: bool) -> int:
    """A network count after one more event (``home_time``: local evening, night, weekend)."""
    return packed + (HOME_EVENT if home_time else OTHER_EVENT)


def home_events(packed: int) -> int:
    """Events at home time in a network count."""
    return packed >> COUNT_BITS


def all_events(packed: int) -> int:
    """All events in a network count."""
    return packed & COUNT_MASK


def pattern_code(home: int, level: int, adjacent: int, similar: int) -> int:
    """The number of an agreement pattern from each field's place (flags: OFF/AGREES/DISAGREES)."""
    return (
        home * HOME_STRIDE
        + level * LEVEL_STRIDE
        + adjacent * ADJACENT_STRIDE
        + similar * SIMILAR_STRIDE
    )
