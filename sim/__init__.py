"""hopsim: a cross-device persona simulator and load-test harness.

The package is laid out the way the data flows: ``world`` (SimPy people and
devices) emits Segment events through ``trace``; the reference ``engine``
stitches identities and decides messages; ``analysis`` scores everything
against the ground truth the world knows; ``report`` draws it.
"""

__version__ = "0.1.0"
