"""One run's wiring: the world, the engine and the sinks, for one worker or several.

- :mod:`sim.runner.run`: :class:`Run`, the object a command or ``sim.run()``
  builds; it writes the run folder.
- :mod:`sim.runner.shard`: one worker's share of the households, its world
  and engine, wired together through the world's hooks.
- :mod:`sim.runner.workers`: where the shards live (this process, worker processes)
  and the one loop that drives them a slice of a day at a time.
- :mod:`sim.runner.cluster`: the shards as actors on a Dask cluster (optional extra).
- :mod:`sim.runner.merge`: the workers' trace parts collated into one trace.
- :mod:`sim.runner.gc`: the collector's pace while a shard simulates.
- :mod:`sim.runner.relay`: a Dask worker's side of those shards, which carries bytes
  and imports nothing of the world.

``Run`` and ``default_out`` are imported on first use, not with the package:
a Dask worker that imports :mod:`sim.runner.relay` imports this file too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.runner.run import Run, default_out

__all__ = ["Run", "default_out"]


def __getattr__(name: str) -> Any:
    """``sim.runner.Run``, ``sim.runner.default_out``: from :mod:`sim.runner.run`, on first use."""
    if name in __all__:
        from sim.runner import run

        return getattr(run, name)
    raise AttributeError(f"module 'sim.runner' has no attribute {name!r}")
