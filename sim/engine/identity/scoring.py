"""A Fellegi-Sunter model for "is this unnamed device one of this person's?".

Each comparison field has agreement levels. For a level, ``m`` is the
probability of seeing it when the device really is the person's, ``u`` when
it is not. The weight of a level is ``log2(m / u)``; a pair's score is the
sum of its fields' weights, so +1 means "twice as likely a match". Fields
(and the rule knob that switches them):

=============  ======================================  =====  =======  ========
field (rule)   level                                   m      u        weight
=============  ======================================  =====  =======  ========
home (ip)      same home network                       0.90   0.05     +4.17
               different home                          0.10   0.95     -3.25
copresence     met (same network, same 3-hour window,      0.40   0.002    +7.64
(ip)           away from home) on >= 3 networks, >= 12 bits
               on 2 networks, >= 5 bits                0.15   0.01     +3.91
               on 1 network, on >= 2 days, >= 5 bits   0.25   0.05     +2.32
               on 1 network, once                      0.05   0.05      0.00
               never                                   0.15   0.888    -2.57
adjacency      the device's active slots sit next to   0.50   0.20     +1.32
(time)         the person's (within 10 min) at least
               twice as often as chance would put them
               otherwise                               0.50   0.80     -0.68
behaviour      cosine of event-name profiles >= 0.6    0.60   0.30     +1.00
(behaviour)    below                                   0.40   0.70     -0.81
=============  ======================================  =====  =======  ========

A field that cannot be compared (a device never seen at home has no home)
weighs 0, as usual in Fellegi-Sunter.

Co-presence uses value-specific (frequency-based) u, as Winkler proposed:
sharing a (network, hour) that few devices used is more telling than one a
hundred strangers used, so each shared network contributes
``log2(devices / devices on that network in that window)`` bits of surprise
(its rarest shared three-hour window). Windows on one network are not independent (two
colleagues share the office every working day), so bits count once per
network. Two phones of one family on one carrier address for an hour is
chance (weight 0); a phone and a laptop at the same office day after day is
evidence, though colleagues share it too (the home field tells them apart);
a phone and a watch on a new carrier address every outing is strong.
The m/u values are assumptions stated here (not fitted to any truth file),
chosen so that a shared home network alone (+4.17) can place a device in a
household but not on a person, which needs independent evidence on top
(the default ``threshold`` is 6 and ``margin`` 3: a household member sharing
the same home scores about 4 less than the owner when the owner's devices
met the device somewhere else too).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Level = tuple[float, float]

HOME: dict[bool, Level] = {True: (0.90, 0.05), False: (0.10, 0.95)}
COPRESENCE: dict[str, Level] = {
    "strong": (0.40, 0.002),
    "some": (0.15, 0.01),
    "repeated": (0.25, 0.05),
    "once": (0.05, 0.05),
    "none": (0.15, 0.888),
}
ADJACENCY: dict[bool, Level] = {True: (0.50, 0.20), False: (0.50, 0.80)}
BEHAVIOUR: dict[bool, Level] = {True: (0.60, 0.30), False: (0.40, 0.70)}
STRONG_BITS = 12.0
SOME_BITS = 5.0
STRONG_NETWORKS = 3
SOME_NETWORKS = 2
REPEATED_DAYS = 2
ADJACENT_LIFT = 2.0
SIMILAR_COSINE = 0.6


def weight(level: Level) -> float:
    """``log2(m / u)``: the evidence one field level carries."""
    m, u = level
    return math.log2(m / u)


def copresence_level(bits: float, networks: int, days: int) -> str:
    """Several networks are independent meetings; one network needs repeating."""
    if bits >= STRONG_BITS and networks >= STRONG_NETWORKS:
        return "strong"
    if bits >= SOME_BITS and networks >= SOME_NETWORKS:
        return "some"
    if bits >= SOME_BITS and networks == 1:
        return "repeated" if days >= REPEATED_DAYS else "once"
    return "none"


Fields = tuple[bool | None, str | None, bool | None, bool | None]
"""One pair's agreement pattern: (home, copresence level, adjacent, similar); ``None`` = off."""


@dataclass(frozen=True)
class Comparison:
    """The agreement pattern of one (device, person) pair; ``None`` = field switched off.

    ``copresence`` is a level name of :data:`COPRESENCE` (see :func:`copresence_level`).
    """

    home: bool | None
    copresence: str | None
    adjacent: bool | None
    similar: bool | None

    def weights(self) -> dict[str, float]:
        """Per-field weights (log2 likelihood ratios) of the fields that are on."""
        out: dict[str, float] = {}
        if self.home is not None:
            out["home"] = weight(HOME[self.home])
        if self.copresence is not None:
            out["copresence"] = weight(COPRESENCE[self.copresence])
        if self.adjacent is not None:
            out["adjacency"] = weight(ADJACENCY[self.adjacent])
        if self.similar is not None:
            out["behaviour"] = weight(BEHAVIOUR[self.similar])
        return out

    def score(self) -> float:
        return sum(self.weights().values())

    def explain(self) -> str:
        return ", ".join(f"{k} {v:+.2f}" for k, v in self.weights().items())


FLAGS: tuple[bool | None, ...] = (None, True, False)
"""A yes/no field's places: off, agrees, disagrees (``layout.OFF``, ``AGREES``, ``DISAGREES``)."""
LEVELS: tuple[str | None, ...] = (None, *COPRESENCE)
"""The co-presence field's places: off, then the levels of :data:`COPRESENCE`."""
PATTERNS: tuple[Fields, ...] = tuple(itertools.product(FLAGS, LEVELS, FLAGS, FLAGS))
"""Every agreement pattern, numbered as :func:`~sim.engine.identity.layout.pattern_code`
numbers it (each field's place in :data:`FLAGS` or :data:`LEVELS`)."""
PATTERN_SCORES: npt.NDArray[np.float64] = np.array([Comparison(*f).score() for f in PATTERNS])
"""The score of each pattern by number (162 patterns: a pair's score is one array read)."""
_CODES = {fields: code for code, fields in enumerate(PATTERNS)}


def code_of(fields: Fields) -> int:
    """The number of an agreement pattern in :data:`PATTERNS`."""
    return _CODES[fields]


def explain(fields: Fields) -> str:
    """The reason text of a pair, e.g. ``home +4.17, copresence +7.64, ...`` (for links made)."""
    return Comparison(*fields).explain()
