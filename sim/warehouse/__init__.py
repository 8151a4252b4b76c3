"""The trace as a warehouse holds it: the tables Segment and RudderStack load.

A CDP's warehouse destination turns every message into a row: one table per
call type (``identifies``, ``tracks``, ``pages``, ``screens``, ``aliases``,
``groups``), one table per track event name, a ``users`` table holding each
user's latest traits, nested objects flattened into ``snake_case`` columns
(``context.device.id`` -> ``context_device_id``). That is the shape a data
engineer's identity model reads, so hopsim writes its trace in it
(``hopsim export``) and scores what the model makes of it (``hopsim score``).

This package reads the trace (``sim.trace``) and nothing above it.
"""
