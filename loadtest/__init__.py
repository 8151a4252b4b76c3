"""hopsim's load test: replay a simulated trace over HTTP with Locust.

The importable pieces (no Locust, no gevent) live here so tests and the
``hopsim loadtest`` command can use them without starting a load test:

- :mod:`loadtest.replay`: read a trace, split it by device, batch it like an SDK
  and give every batch its intended send time.
- :mod:`loadtest.measure`: raw samples, exact percentiles, per-second series.
- :mod:`loadtest.checks`: CI thresholds and the exit code they imply.
- :mod:`loadtest.shape`: the trace's own arrival rate as a Locust-style shape.

``loadtest/locustfile.py`` wires them into Locust (declarative user class,
event hooks); it is what ``locust -f`` and ``hopsim loadtest`` run.
"""
