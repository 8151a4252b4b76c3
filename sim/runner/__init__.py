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
"""

from sim.runner.run import Run, default_out

__all__ = ["Run", "default_out"]
