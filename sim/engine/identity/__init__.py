"""Identity stitching: anonymousId, device id, userId, hashed email and phone into profiles.

``IdentityGraph(IdentityConfig.from_mapping(table, where))``; feed it events
with ``observe``; call ``finalize`` at the end of a run for shared-device
protection, households and the probabilistic rules (the passes of
:mod:`sim.engine.identity.finalize`); read ``profiles()``, ``profile_of``,
``merge_log`` and ``stats()``. Shard workers hand their graph over with
``export()`` and the parent joins them with ``IdentityGraph.absorb``.
Everything a graph knows is one :class:`GraphState`. See docs/identity.md.
"""

from sim.engine.identity.config import IdentityConfig
from sim.engine.identity.graph import Event, IdentityGraph
from sim.engine.identity.graphstate import GraphState
from sim.engine.identity.records import GraphStats, MergeRecord, Profile, Reason
from sim.engine.identity.shards import ShardIdentity

__all__ = [
    "Event",
    "GraphState",
    "GraphStats",
    "IdentityConfig",
    "IdentityGraph",
    "MergeRecord",
    "Profile",
    "Reason",
    "ShardIdentity",
]
