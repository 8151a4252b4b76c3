"""The identity graph: feed it Segment events, ask it who is who.

The picture: a cloakroom attendant (``observe``) pins each event's tickets
onto one hook as they arrive, in real time, by the deterministic rules. At
the end of a run (``finalize``) a detective goes over the hooks that never
got a name (a Roku, an Echo Dot, a car, a watch) and, from circumstantial
evidence scored with a Fellegi-Sunter model, hangs each on the right
person, on the household shelf, or leaves it alone when the evidence is
thin. Probabilistic linking is batch-only: it runs in ``finalize()``; calling
it again after more events links only what is still unlinked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sim.engine.identity.config import IdentityConfig
from sim.engine.identity.deterministic import Registry, short
from sim.engine.identity.evidence import (
    DeviceEvidence,
    EvidenceBook,
    epoch_minute,
    utc_offset_minutes,
)
from sim.engine.identity.extract import device_of, identifiers_of, rule_of
from sim.engine.identity.identifiers import (
    ANONYMOUS_ID,
    DEVICE_ID,
    EMAIL,
    PHONE,
    USER_ID,
    Blocklist,
    hash_email,
    hash_phone,
)
from sim.engine.identity.records import MergeRecord, Profile
from sim.engine.identity.sightings import Sightings, order_key
from sim.engine.identity.snapshot import snapshot
from sim.engine.identity.state import ProfileState, public_id

if TYPE_CHECKING:
    from sim.engine.identity.shards import ShardIdentity

LOOKUP_KINDS = (ANONYMOUS_ID, USER_ID, DEVICE_ID, EMAIL, PHONE)
MAX_REJECT_LOG = 10_000
FAST_CACHE_LIMIT = 4_000_000
EMPTY: Mapping[str, Any] = {}


class IdentityGraph:
    """Stitches anonymousId, device id, userId, hashed email and phone into profiles."""

    def __init__(self, config: IdentityConfig | None = None) -> None:
        self.config = config or IdentityConfig()
        self.merge_log: list[MergeRecord] = []
        self.registry = Registry(self.config, self.merge_log.append)
        self.devices: dict[str, DeviceEvidence] = {}
        self.rejected: Counter[str] = Counter()
        self.events = 0
        self.finalized = False
        self._blocklist = Blocklist(self.config.blocked_values)
        self._fast: dict[tuple[object, object, object], DeviceEvidence] = {}
        self._probabilistic: list[MergeRecord] = []
        self._households: list[ProfileState] = []
        self.book = EvidenceBook(self.config.public_ip_devices)
        """Numbered networks and event names the evidence cards refer to."""
        self.sightings = Sightings()
        """When each profile, device, network, name and log entry first appeared (for absorb)."""

    # ---- ingest -------------------------------------------------------------------

    def observe(self, event: Mapping[str, Any]) -> None:
        """Take one Segment event: link its identifiers, note its evidence. Never raises."""
        self.events += 1
        if type(event) is not dict and not isinstance(event, Mapping):
            start = len(self.merge_log)
            self._reject_event("event is not an object")
            self.sightings.logged(start, len(self.merge_log), self.sightings.last)
            return
        kind = event.get("type")
        context = event.get("context")
        if type(context) is not dict and not isinstance(context, Mapping):
            context = EMPTY
        device = context.get("device")
        if type(device) is not dict and not isinstance(device, Mapping):
            device = EMPTY
        key = (event.get("anonymousId"), device.get("id"), event.get("userId"))
        cacheable = kind != "identify" and kind != "alias"
        evidence = None
        if cacheable:
            try:
                evidence = self._fast.get(key)
            except TypeError:  # a list or dict where an id belongs: the slow path says why
                cacheable = False
        if evidence is None:
            evidence = self._slow(event)
            if evidence is None:
                return
            if cacheable and len(self._fast) < FAST_CACHE_LIMIT:
                self._fast[key] = evidence
        stamp = event.get("timestamp")
        feature = event.get("event") or event.get("name")
        ip = context.get("ip")
        network = None
        if type(ip) is str:
            network = self.book.networks.get(ip)
            if network is None:
                network = self.book.network(ip)
                self.sightings.networks.append(order_key(event))
        evidence.see(
            network,
            epoch_minute(stamp) if type(stamp) is str else None,
            feature if type(feature) is str else None,
        )
        if len(self.book.names) != self.sightings.named:
            self.sightings.name(order_key(event))

    def observe_all(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Batch use: observe every event in order."""
        for event in events:
            self.observe(event)

    def _slow(self, event: Mapping[str, Any]) -> DeviceEvidence | None:
        """Link the event's identifiers; note when what it created first appeared."""
        sightings = self.sightings
        start, created, devices = len(self.merge_log), self.registry.created, len(self.devices)
        evidence = self._link(event)
        key = sightings.last = order_key(event)
        sightings.logged(start, len(self.merge_log), key)
        if self.registry.created != created:
            sightings.profiles.append(key)
        if len(self.devices) != devices:
            sightings.devices.append(key)
        return evidence

    def _link(self, event: Mapping[str, Any]) -> DeviceEvidence | None:
        ids = identifiers_of(
            event,
            self._blocklist,
            self._reject_id,
            self.config.deterministic,
            lambda value: value in self.registry.index[USER_ID],
        )
        if not any(kind in (ANONYMOUS_ID, USER_ID, DEVICE_ID) for kind, _ in ids):
            self._reject_event("no usable anonymousId, userId or device id")
            return None
        self.registry.link(ids, rule_of(event))
        return self._evidence_for(event, ids)

    def _evidence_for(self, event: Mapping[str, Any], ids: list[tuple[str, str]]) -> DeviceEvidence:
        values = dict(ids)
        unit = values.get(DEVICE_ID)
        anon = values.get(ANONYMOUS_ID)
        name = unit if unit is not None else f"anonymous:{anon or values.get(USER_ID)}"
        evidence = self.devices.get(name)
        if evidence is None:
            device = device_of(event)
            kind = device.get("type") if device is not None else None
            evidence = DeviceEvidence(kind if isinstance(kind, str) else "unknown", self.book)
            context = event.get("context")
            zone = context.get("timezone") if isinstance(context, Mapping) else None
            evidence.offset = utc_offset_minutes(zone)
            self.devices[name] = evidence
        if anon is not None and unit is not None:
            evidence.add_anon(anon)
        user = values.get(USER_ID)
        if user is not None and unit is not None:
            evidence.add_user(user)
        return evidence

    def _reject_id(self, kind: str, raw: object, why: str) -> None:
        self.rejected[f"{kind}: {why}"] += 1
        if self.rejected[f"{kind}: {why}"] == 1 or len(self.merge_log) < MAX_REJECT_LOG:
            shown = short(raw) if isinstance(raw, str) else type(raw).__name__
            self.merge_log.append(
                MergeRecord("blocklist", "reject", f"{kind} {why}", (f"{kind}:{shown}",))
            )

    def _reject_event(self, why: str) -> None:
        self.rejected[f"event: {why}"] += 1
        if self.rejected[f"event: {why}"] == 1:
            self.merge_log.append(MergeRecord("blocklist", "reject", f"event ignored: {why}", ()))

    # ---- batch --------------------------------------------------------------------

    def finalize(self) -> None:
        """Run shared-device protection and the probabilistic rules over everything seen."""
        from sim.engine.identity.person import link_persons  # issue 14: person-first pass
        from sim.engine.identity.probabilistic import link_probabilistically

        self._fast.clear()
        self._households = link_probabilistically(self)
        link_persons(self, self._households)  # issue 14: person-first pass
        self.finalized = True

    # ---- shards -------------------------------------------------------------------

    def export(self) -> ShardIdentity:
        """This graph's state, picklable, for :meth:`absorb` (before ``finalize()`` only).

        It shares objects with the graph: once exported, the graph is the
        export's, so observe nothing more on it.
        """
        from sim.engine.identity.shards import export

        return export(self)

    @classmethod
    def absorb(
        cls, parts: Sequence[ShardIdentity], config: IdentityConfig | None = None
    ) -> IdentityGraph:
        """One graph from the exports of graphs that each saw one shard of the households.

        Indistinguishable from one graph that saw every event in trace order,
        provided no identifier appears in two shards and each shard graph saw
        its events in trace order (see docs/identity.md, "Shards").
        """
        from sim.engine.identity.shards import absorb

        return absorb(parts, config)

    # ---- read side ----------------------------------------------------------------

    def profiles(self) -> list[Profile]:
        """Every person and household profile, in a stable order."""
        return snapshot(self.registry.live(), self._households)

    def profile_of(self, kind: str, value: str) -> str | None:
        """The profile id holding identifier ``value`` of ``kind`` (email/phone given raw)."""
        if kind not in LOOKUP_KINDS:
            raise ValueError(f"kind must be one of {LOOKUP_KINDS}, got {kind!r}")
        lookup: str | None = value
        if kind == EMAIL:
            lookup = hash_email(value)
        elif kind == PHONE:
            lookup = hash_phone(value)
        if lookup is None:
            return None
        state = self.registry.find(kind, lookup)
        return None if state is None else public_id(state)

    def stats(self) -> dict[str, Any]:
        """Counts a run summary wants: events, identifiers, profiles, merges, rejections."""
        live = self.registry.live()
        persons = [s for s in live if s.kind == "person"]
        return {
            "events": self.events,
            "identifiers": sum(len(t) for t in self.registry.index.values()),
            "devices": len(self.devices),
            "profiles": len(persons),
            "households": len(self._households),
            "identified_profiles": sum(1 for s in persons if s.identified()),
            "merges": self.registry.merges,
            "refused_merges": self.registry.refusals,
            "probabilistic_links": sum(1 for r in self.merge_log if r.rule == "probabilistic"),
            "rejected": dict(sorted(self.rejected.items())),
            "largest_profile_devices": max((len(s.device_ids) for s in live), default=0),
            "finalized": self.finalized,
        }
