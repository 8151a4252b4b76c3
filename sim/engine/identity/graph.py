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

from collections.abc import Iterable, Mapping, Sequence

from sim.engine.identity.config import IdentityConfig
from sim.engine.identity.deterministic import short
from sim.engine.identity.evidence import (
    DeviceEvidence,
    epoch_minute,
    utc_offset_minutes,
)
from sim.engine.identity.extract import device_of, identifiers_of, rule_of
from sim.engine.identity.finalize import run_passes
from sim.engine.identity.graphstate import GraphState
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
from sim.engine.identity.records import (
    GraphStats,
    MergeRecord,
    Profile,
    Reason,
    ignored_key,
    rejection_key,
)
from sim.engine.identity.shards import ShardIdentity, absorb, export
from sim.engine.identity.sightings import order_key
from sim.engine.identity.snapshot import snapshot
from sim.engine.identity.state import public_id

LOOKUP_KINDS = (ANONYMOUS_ID, USER_ID, DEVICE_ID, EMAIL, PHONE)
FAST_CACHE_LIMIT = 4_000_000
EMPTY: Mapping[str, object] = {}

Event = Mapping[str, object]
"""A Segment event as decoded JSON (``type``, ``anonymousId``, ``context``, ...)."""


class IdentityGraph:
    """Stitches anonymousId, device id, userId, hashed email and phone into profiles.

    Everything it knows is one :class:`~sim.engine.identity.graphstate.GraphState`
    (``state``); the graph is the behaviour around it.
    """

    def __init__(self, config: IdentityConfig | None = None) -> None:
        self._adopt(GraphState.empty(config or IdentityConfig()))

    @classmethod
    def of_state(cls, state: GraphState) -> IdentityGraph:
        """A graph that goes on from ``state`` (which it then owns)."""
        graph = cls.__new__(cls)
        graph._adopt(state)
        return graph

    def _adopt(self, state: GraphState) -> None:
        self.state = state
        """Everything this graph knows (profiles, evidence, log, counters)."""
        self._blocklist = Blocklist(state.config.blocked_values)
        # The per-event path reads these on every call: bound once here (same objects).
        self._fast = state.ingest_cache
        self._book = state.book
        self._sightings = state.sightings

    @property
    def config(self) -> IdentityConfig:
        return self.state.config

    @property
    def merge_log(self) -> list[MergeRecord]:
        """Every decision the graph made, oldest first (see :class:`MergeRecord`)."""
        return self.state.merge_log

    @property
    def finalized(self) -> bool:
        """Whether ``finalize()`` has run."""
        return self.state.finalized

    # ---- ingest -------------------------------------------------------------------

    def observe(self, event: Event) -> None:
        """Take one Segment event: link its identifiers, note its evidence. Never raises.

        Anything that is not a well-formed event (not an object, no usable
        identifier, junk values) is counted under ``stats()["rejected"]`` and
        logged, not raised on.
        """
        self.state.events += 1
        if type(event) is not dict and not isinstance(event, Mapping):
            start = len(self.state.merge_log)
            self._reject_event("event is not an object")
            self._sightings.logged(start, len(self.state.merge_log), self._sightings.last)
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
            network = self._book.networks.get(ip)
            if network is None:
                network = self._book.network(ip)
                self._sightings.networks.append(order_key(event))
        evidence.see(
            network,
            epoch_minute(stamp) if type(stamp) is str else None,
            feature if type(feature) is str else None,
        )
        counts = evidence.user_events
        if counts:
            user = key[2]
            if type(user) is str and user in counts:  # NOTE: inlined DeviceEvidence.used_by().
                counts[user] += 1
        if len(self._book.names) != self._sightings.named:
            self._sightings.name(order_key(event))

    def observe_all(self, events: Iterable[Event]) -> None:
        """Batch use: observe every event in order."""
        for event in events:
            self.observe(event)

    def _slow(self, event: Event) -> DeviceEvidence | None:
        """Link the event's identifiers; note when what it created first appeared."""
        state, sightings = self.state, self._sightings
        start, created = len(state.merge_log), state.registry.created
        devices = len(state.devices)
        evidence = self._link(event)
        key = sightings.last = order_key(event)
        sightings.logged(start, len(state.merge_log), key)
        if state.registry.created != created:
            sightings.profiles.append(key)
        if len(state.devices) != devices:
            sightings.devices.append(key)
        return evidence

    def _link(self, event: Event) -> DeviceEvidence | None:
        ids = identifiers_of(
            event,
            self._blocklist,
            self._reject_id,
            self.state.config.deterministic,
            lambda value: value in self.state.registry.index[USER_ID],
        )
        if not any(kind in (ANONYMOUS_ID, USER_ID, DEVICE_ID) for kind, _ in ids):
            self._reject_event("no usable anonymousId, userId or device id")
            return None
        self.state.registry.link(ids, rule_of(event))
        return self._evidence_for(event, ids)

    def _evidence_for(self, event: Event, ids: list[tuple[str, str]]) -> DeviceEvidence:
        values = dict(ids)
        unit = values.get(DEVICE_ID)
        anon = values.get(ANONYMOUS_ID)
        name = unit if unit is not None else f"anonymous:{anon or values.get(USER_ID)}"
        evidence = self.state.devices.get(name)
        if evidence is None:
            device = device_of(event)
            kind = device.get("type") if device is not None else None
            maker = device.get("manufacturer") if device is not None else None
            evidence = DeviceEvidence(
                kind if isinstance(kind, str) else "unknown",
                self._book,
                maker if isinstance(maker, str) else "",
            )
            context = event.get("context")
            zone = context.get("timezone") if isinstance(context, Mapping) else None
            evidence.offset = utc_offset_minutes(zone)
            self.state.devices[name] = evidence
        if anon is not None and unit is not None:
            evidence.add_anon(anon)
        user = values.get(USER_ID)
        if user is not None and unit is not None:
            evidence.add_user(user)
        return evidence

    def _reject_id(self, kind: str, raw: object, why: str) -> None:
        state = self.state
        key = rejection_key(kind, why)
        state.rejected[key] += 1
        if state.keeps_rejection(state.rejected[key] == 1, Reason.ID_REJECTED):
            shown = short(raw) if isinstance(raw, str) else type(raw).__name__
            facts = (("kind", kind), ("why", why))
            ids = (f"{kind}:{shown}",)
            state.log(MergeRecord("blocklist", "reject", Reason.ID_REJECTED, ids, facts=facts))

    def _reject_event(self, why: str) -> None:
        state = self.state
        key = ignored_key(why)
        state.rejected[key] += 1
        if state.keeps_rejection(state.rejected[key] == 1, Reason.EVENT_IGNORED):
            facts = (("why", why),)
            self.state.log(
                MergeRecord("blocklist", "reject", Reason.EVENT_IGNORED, (), facts=facts)
            )

    # ---- batch --------------------------------------------------------------------

    def finalize(self) -> None:
        """Run the batch passes over everything seen (:mod:`sim.engine.identity.finalize`).

        Shared-device protection, households and the probabilistic rules. A
        second call, after more events, links only what is still unlinked.
        """
        self._fast.clear()
        self.state.households = run_passes(self.state)
        self.state.finalized = True

    @property
    def epoch(self) -> int:
        """Changes whenever a profile answer may change: at each merge and at ``finalize``."""
        return self.state.registry.merges * 2 + self.state.finalized

    # ---- shards -------------------------------------------------------------------

    def export(self) -> ShardIdentity:
        """This graph's state, picklable, for :meth:`absorb` (before ``finalize()`` only).

        It shares objects with the graph: once exported, the graph is the
        export's, so observe nothing more on it.
        """
        return export(self.state)

    @classmethod
    def absorb(
        cls, parts: Sequence[ShardIdentity], config: IdentityConfig | None = None
    ) -> IdentityGraph:
        """One graph from the exports of graphs that each saw one shard of the households.

        Indistinguishable from one graph that saw every event in trace order,
        provided no identifier appears in two shards and each shard graph saw
        its events in trace order (see docs/identity.md, "Shards").
        """
        return cls.of_state(absorb(parts, config))

    # ---- read side ----------------------------------------------------------------

    def profiles(self) -> list[Profile]:
        """Every person and household profile, in a stable order."""
        return snapshot(self.state.registry.live(), self.state.households)

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
        state = self.state.registry.find(kind, lookup)
        return None if state is None else public_id(state)

    def stats(self) -> GraphStats:
        """Counts a run summary wants: events, identifiers, profiles, merges, rejections."""
        state = self.state
        registry = state.registry
        live = registry.live()
        persons = [s for s in live if s.kind == "person"]
        return {
            "events": state.events,
            "identifiers": sum(len(t) for t in registry.index.values()),
            "devices": len(state.devices),
            "profiles": len(persons),
            "households": len(state.households),
            "identified_profiles": sum(1 for s in persons if s.identified()),
            "merges": registry.merges,
            "refused_merges": registry.refusals,
            "probabilistic_links": sum(1 for r in state.merge_log if r.rule == "probabilistic"),
            "rejected": dict(sorted(state.rejected.items())),
            "largest_profile_devices": max((len(s.device_ids) for s in live), default=0),
            "finalized": state.finalized,
        }
