"""Identity stitching: anonymousId, device id, userId, hashed email and phone into profiles.

``IdentityGraph(IdentityConfig.from_mapping(table, where))``; feed it events
with ``observe``; call ``finalize`` at the end of a run for shared-device
protection and the probabilistic rules; read ``profiles()``, ``profile_of``,
``merge_log`` and ``stats()``. See docs/identity.md.
"""

from sim.engine.identity.config import IdentityConfig
from sim.engine.identity.graph import IdentityGraph
from sim.engine.identity.records import MergeRecord, Profile

__all__ = ["IdentityConfig", "IdentityGraph", "MergeRecord", "Profile"]
