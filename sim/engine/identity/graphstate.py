"""The identity graph's state: one plain record every part of the package works on.

The cloakroom's ledger. The attendant (:class:`~sim.engine.identity.graph.IdentityGraph`)
writes in it as events arrive; the batch passes of ``finalize()``
(:mod:`sim.engine.identity.finalize`) read and extend it at the end of a
run; :mod:`sim.engine.identity.shards` copies it out of a worker
(``export``) and builds one from several (``absorb``). None of them reaches
into another's private fields: this record is what they share, and each
field is documented here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sim.engine.identity.config import IdentityConfig
from sim.engine.identity.deterministic import Registry
from sim.engine.identity.evidence import DeviceEvidence, EvidenceBook
from sim.engine.identity.records import MergeRecord, Reason
from sim.engine.identity.sightings import Sightings
from sim.engine.identity.state import ProfileState

MAX_REJECT_LOG = 10_000
"""Identifier rejections are logged while the log is shorter than this (and the first of
each kind always): a flood of junk ids must not crowd the decisions out of the log."""

IngestKey = tuple[object, object, object]
"""An event's ``(anonymousId, context.device.id, userId)``, as the ingest cache keys it."""


@dataclass
class GraphState:
    """Everything an identity graph knows: profiles, evidence, log, counters.

    Build one with :meth:`empty`; the registry logs into ``merge_log``.
    """

    config: IdentityConfig
    merge_log: list[MergeRecord]
    """Every decision in event order (then ``finalize()``'s, in pass order)."""
    registry: Registry
    """The identifier index, the profiles it reaches, and the merge counters."""
    book: EvidenceBook
    """Numbered networks and event names the evidence cards refer to."""
    devices: dict[str, DeviceEvidence] = field(default_factory=dict)
    """One evidence card per device (or per install without a device id), by first sight."""
    sightings: Sightings = field(default_factory=Sightings)
    """When each profile, device, network, name and log entry first appeared (for absorb)."""
    rejected: Counter[str] = field(default_factory=Counter)
    """Rejections by counter name (:func:`~sim.engine.identity.records.rejection_key`)."""
    events: int = 0
    """Events observed."""
    finalized: bool = False
    """Whether ``finalize()`` has run."""
    households: list[ProfileState] = field(default_factory=list)
    """The household entities ``finalize()`` made or kept, in creation order."""
    ingest_cache: dict[IngestKey, DeviceEvidence] = field(default_factory=dict)
    """Evidence card by ingest key for events that link nothing new (see ``observe``)."""

    @classmethod
    def empty(cls, config: IdentityConfig) -> GraphState:
        """The state of a graph that has seen nothing yet."""
        log: list[MergeRecord] = []
        return cls(
            config=config,
            merge_log=log,
            registry=Registry(config, log.append),
            book=EvidenceBook(config.public_ip_devices),
        )

    def log(self, record: MergeRecord) -> None:
        """Append one decision to the merge log."""
        self.merge_log.append(record)

    def keeps_rejection(self, first: bool, code: Reason) -> bool:
        """Whether the log takes a rejection now (``first``: the first of its counter).

        The first of each counter always; further identifier rejections while
        the log is shorter than ``MAX_REJECT_LOG``; further ignored events never.
        """
        return first or (code is Reason.ID_REJECTED and len(self.merge_log) < MAX_REJECT_LOG)
