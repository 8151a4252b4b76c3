"""The engine facade: one object the simulation and ``hopsim serve`` both drive.

Think of a switchboard. Events come in one at a time (``ingest``); the
identity graph decides which person each belongs to; the messaging component
(when one is attached) decides whom to contact and when, and ``tick`` asks it
what is due at a given moment. The facade does no I/O: the simulation feeds
it in-process, and the HTTP app feeds it from the durable log, so replaying
the log after a crash rebuilds exactly the same state.

The identity graph lives in :mod:`sim.engine.identity` (``IdentityConfig``,
``IdentityGraph``); the messaging engine plugs in through the small
:class:`Messaging` protocol below.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

Event = dict[str, Any]
IDENTIFIER_KINDS = ("anonymousId", "userId", "deviceId")


@runtime_checkable
class Profile(Protocol):
    """A stitched person (or shared device) as the identity graph reports it."""

    @property
    def profile_id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    def as_json(self) -> dict[str, Any]: ...


class Identity(Protocol):
    """What the facade needs from :class:`sim.engine.identity.IdentityGraph`."""

    def observe(self, event: Event) -> Any: ...

    def profiles(self) -> Sequence[Profile]: ...

    def profile_of(self, kind: str, value: str) -> Any: ...


class Messaging(Protocol):
    """What the facade needs from a messaging engine.

    ``observe`` sees each event with the profile it was stitched to; ``tick``
    returns the deliveries due at ``now_seconds`` (objects or dicts carrying a
    ``profile_id``).
    """

    def observe(self, event: Event, profile_id: str | None) -> None: ...

    def tick(self, now_seconds: float) -> list[Any]: ...


def load_identity_config(table: Mapping[str, Any], where: str = "[identity]") -> Any:
    """``IdentityConfig.from_mapping`` of :mod:`sim.engine.identity` (raises ConfigError)."""
    module = importlib.import_module("sim.engine.identity")
    return module.IdentityConfig.from_mapping(dict(table), where)


def load_identity(config: Any = None) -> Identity:
    """Build the identity graph from ``sim.engine.identity`` (a mapping is parsed first)."""
    module = importlib.import_module("sim.engine.identity")
    if config is None or isinstance(config, Mapping):
        config = load_identity_config(config or {})
    graph: Identity = module.IdentityGraph(config)
    return graph


class Engine:
    """Identity plus messaging behind ``ingest`` / ``tick`` / ``stats``."""

    def __init__(
        self,
        identity_config: Any = None,
        *,
        messaging: Messaging | None = None,
        identity: Identity | None = None,
    ) -> None:
        self.identity: Identity = (
            identity if identity is not None else load_identity(identity_config)
        )
        self.messaging = messaging
        self._profile_cache: dict[str, tuple[int, Any, Any, str]] = {}
        self._cache_finalized = False
        self._identity_has_finalized = hasattr(self.identity, "finalized")
        registry = getattr(self.identity, "registry", None)
        self._registry: Any = (
            registry if isinstance(getattr(registry, "merges", None), int) else None
        )
        # A messenger that keeps its own per-device cards can keep the profile answer on
        # them too: it asks ``profile_id_for`` only when the graph or the ids have changed.
        self._observe_resolving: Any = (
            getattr(messaging, "observe_resolving", None) if self._registry is not None else None
        )
        self.events_ingested = 0
        self.by_type: Counter[str] = Counter()
        self.deliveries: list[Any] = []  # kept only when messaging logs no decisions itself
        self.delivered = 0
        self._keep_deliveries = not isinstance(getattr(messaging, "decisions", None), list)
        self.latest_timestamp = ""  # the newest event time seen (ISO-8601, compared as text)
        self._index: dict[str, Profile] = {}
        self._index_at = -1

    def ingest(self, event: Event) -> None:
        """Take one Segment event, in arrival order."""
        self.identity.observe(event)
        self.events_ingested += 1
        self.by_type[str(event.get("type"))] += 1
        stamp = event.get("timestamp")
        if isinstance(stamp, str) and stamp > self.latest_timestamp:
            self.latest_timestamp = stamp
        if self._observe_resolving is not None:
            registry = self._registry
            finalized = self._identity_has_finalized and self.identity.finalized  # type: ignore[attr-defined]
            self._observe_resolving(
                event, registry.merges * 2 + bool(finalized), self.profile_id_for
            )
        elif self.messaging is not None:
            self.messaging.observe(event, self._cached_profile_id(event))

    def ingest_many(self, events: Sequence[Event]) -> None:
        for event in events:
            self.ingest(event)

    def tick(self, now_seconds: float) -> list[Any]:
        """Deliveries due at ``now_seconds`` (empty without a messaging component)."""
        if self.messaging is None:
            return []
        due = self.messaging.tick(now_seconds)
        self.delivered += len(due)
        if self._keep_deliveries:
            self.deliveries.extend(due)
        return due

    def _cached_profile_id(self, event: Event) -> str | None:
        """``profile_id_for``, remembered per device with the ids it last sent.

        A device sends the same identifiers event after event. Each answer is
        stamped with the graph's merge count and the (userId, anonymousId) it
        was asked for; while those match and the graph has merged nothing
        since, the answer stands (one look-up by device id, no key tuple to
        build and hash). After a merge each device is asked again once.
        ``finalize`` may move devices to households, so it empties the cache.
        """
        registry = self._registry
        if registry is None:
            return self.profile_id_for(event)
        if self._identity_has_finalized:
            finalized = bool(self.identity.finalized)  # type: ignore[attr-defined]
            if finalized != self._cache_finalized:
                self._profile_cache.clear()
                self._cache_finalized = finalized
        context = event.get("context")
        device = context.get("device") if isinstance(context, dict) else None
        device_id = device.get("id") if isinstance(device, dict) else None
        if not isinstance(device_id, str):
            return self.profile_id_for(event)
        user, anonymous = event.get("userId"), event.get("anonymousId")
        merges: int = registry.merges
        cached = self._profile_cache.get(device_id)
        if cached is not None and cached[:3] == (merges, user, anonymous):
            return cached[3]
        found = self.profile_id_for(event)
        if found is not None:
            self._profile_cache[device_id] = (merges, user, anonymous, found)
        return found

    @staticmethod
    def _identifiers(event: Event) -> list[tuple[str, str]]:
        """The event's usable identifiers in look-up order: userId, anonymousId, device id."""
        context = event.get("context")
        device = context.get("device") if isinstance(context, dict) else None
        candidates = (
            ("userId", event.get("userId")),
            ("anonymousId", event.get("anonymousId")),
            ("deviceId", device.get("id") if isinstance(device, dict) else None),
        )
        return [(kind, value) for kind, value in candidates if isinstance(value, str) and value]

    def profile_id_for(self, event: Event) -> str | None:
        """The profile an event's identifiers belong to (userId first, then anonymousId, device)."""
        for kind, value in self._identifiers(event):
            found = self.profile_id_of(kind, value)
            if found is not None:
                return found
        return None

    def profile_id_of(self, kind: str, value: str) -> str | None:
        """The id of the profile holding ``value`` of ``kind``: one graph look-up, no snapshot."""
        if kind not in IDENTIFIER_KINDS:
            raise ValueError(f"identifier kind {kind!r}: expected one of {IDENTIFIER_KINDS}")
        found = self.identity.profile_of(kind, value)
        if found is None or isinstance(found, str):
            return found
        return str(found.profile_id)

    def lookup(self, kind: str, value: str) -> Profile | None:
        """The profile holding identifier ``value`` of ``kind`` (anonymousId/userId/deviceId)."""
        profile_id = self.profile_id_of(kind, value)
        return None if profile_id is None else self.profile(profile_id)

    def profile(self, profile_id: str) -> Profile | None:
        """A profile by id."""
        return self._profiles().get(profile_id)

    def _profiles(self) -> dict[str, Profile]:
        # A snapshot of the graph costs O(profiles): take one per read after
        # new events, never one per event.
        if self._index_at != self.events_ingested:
            self._index = {p.profile_id: p for p in self.identity.profiles()}
            self._index_at = self.events_ingested
        return self._index

    def messages(self, profile_id: str) -> list[Any]:
        """Decisions logged for one profile (sent or suppressed, and why), oldest first.

        Uses the messaging component's ``decisions`` log when it keeps one,
        otherwise the deliveries ``tick`` returned.
        """
        log = getattr(self.messaging, "decisions", None)
        rows: list[Any] = log if isinstance(log, list) else self.deliveries
        out = []
        for item in rows:
            owner = item.get("profile_id") if isinstance(item, dict) else None
            owner = owner if owner is not None else getattr(item, "profile_id", None)
            if owner == profile_id:
                out.append(item)
        return out

    def stats(self) -> dict[str, Any]:
        """Counts for ``/v1/stats`` and ``/metrics``."""
        return {
            "events_ingested": self.events_ingested,
            "events_by_type": dict(self.by_type),
            "profiles": len(self._profiles()),
            "deliveries": self.delivered,
        }
