"""``hopsim serve``: the engine behind a Segment-compatible HTTP collector.

The doorman and the ledger around the switchboard: :mod:`~sim.serve.app`
(the ASGI app: ingest, reads, lifecycle), :mod:`~sim.serve.validate` (every
item checked, every problem named), :mod:`~sim.serve.store` (the durable,
group-committed log the engine is fed from), :mod:`~sim.serve.openapi`,
:mod:`~sim.serve.metrics` and :mod:`~sim.serve.client` (a typed client).
It talks to the engine only through :class:`sim.engine.engine.Engine`'s
public API. See docs/serve.md.
"""
