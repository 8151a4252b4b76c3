"""hopsim: a cross-device persona simulator and load-test harness.

The package is laid out the way the data flows: ``world`` (SimPy people and
devices) emits Segment events through ``trace``; the reference ``engine``
stitches identities and decides messages; ``analysis`` scores everything
against the ground truth the world knows; ``report`` draws it.
"""

__version__ = "0.1.0"

from typing import Any

__all__ = ["RunResult", "run"]


def __getattr__(name: str) -> Any:
    """``sim.run`` and ``sim.RunResult`` load the simulator only when first used."""
    if name in __all__:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
