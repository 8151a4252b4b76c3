"""The engine facade: one object the simulation and ``hopsim serve`` both drive.

Think of a switchboard. Events come in one at a time (``ingest``); the
identity graph decides which person each belongs to; the messaging component
(when one is attached) decides whom to contact and when, and ``tick`` asks it
what is due at a given moment. The facade does no I/O: the simulation feeds
it in-process, and the HTTP collector (:mod:`sim.serve`) feeds it from its
durable log, so replaying the log after a crash rebuilds exactly the same
state.

The identity graph is :class:`sim.engine.identity.IdentityGraph`; the
facade asks of it only what the :class:`Identity` protocol lists. A messaging
engine (:class:`sim.engine.messaging.Messenger`) plugs in through the
:class:`Messaging` protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, cast

from sim.engine.device_cache import DeviceAnswers
from sim.engine.identity import IdentityConfig, IdentityGraph, Profile
from sim.engine.messaging.clock import MessageClock
from sim.engine.messaging.messenger import Delivery
from sim.trace.events import SegmentEvent

Event = dict[str, object]  # an event as the messenger reads it: a plain decoded-JSON dict
IDENTIFIER_KINDS = ("anonymousId", "userId", "deviceId")


class Identity(Protocol):
    """What the facade needs from :class:`sim.engine.identity.IdentityGraph`."""

    def observe(self, event: Mapping[str, object]) -> None:
        """Link the event's identifiers into profiles."""

    def profiles(self) -> Sequence[Profile]:
        """Every profile as it stands (a snapshot: O(profiles))."""

    def profile_of(self, kind: str, value: str) -> str | None:
        """The id of the profile holding identifier ``value`` of ``kind``."""

    @property
    def epoch(self) -> int:
        """A number that changes whenever a ``profile_of`` answer may have changed."""


class Messaging(Protocol):
    """What the facade needs from a messaging engine.

    ``observe`` sees each event with the profile it was stitched to; ``tick``
    returns the deliveries due at ``now_seconds``; ``decisions`` is the log of
    every decision (sent or suppressed), and ``clock`` turns event
    timestamps into the seconds ``tick`` counts in.
    """

    def observe(self, event: Event, profile_id: str | None) -> None: ...

    def tick(self, now_seconds: float) -> Sequence[Delivery]: ...

    @property
    def decisions(self) -> Sequence[Mapping[str, object]]: ...

    @property
    def clock(self) -> MessageClock: ...


def load_identity_config(table: Mapping[str, object], where: str = "[identity]") -> IdentityConfig:
    """An ``[identity]`` table, validated (raises :class:`sim.errors.ConfigError`)."""
    return IdentityConfig.from_mapping(dict(table), where)


class Engine:
    """Identity plus messaging behind ``ingest`` / ``tick``, with profile look-ups."""

    def __init__(
        self,
        identity_config: IdentityConfig | Mapping[str, object] | None = None,
        *,
        messaging: Messaging | None = None,
        identity: Identity | None = None,
    ) -> None:
        """``identity`` (a graph) wins over ``identity_config`` (a config or a raw table)."""
        if identity is None:
            if not isinstance(identity_config, IdentityConfig):
                identity_config = load_identity_config(identity_config or {})
            identity = IdentityGraph(identity_config)
        self.identity: Identity = identity
        self.messaging = messaging
        self._answers = DeviceAnswers()
        self._ingested = 0
        self._index: dict[str, Profile] = {}
        self._snapshot: tuple[Profile, ...] = ()
        self._index_at = (-1, -1)

    def ingest(self, event: SegmentEvent) -> None:
        """Take one Segment event, in arrival order (checked at the boundary it came in by)."""
        self.identity.observe(event)
        self._ingested += 1
        if self.messaging is not None:
            profile_id = self._answers.profile_id(event, self.identity.epoch, self.profile_id_for)
            self.messaging.observe(cast(Event, event), profile_id)  # the same dict

    def tick(self, now_seconds: float) -> Sequence[Delivery]:
        """Deliveries due at ``now_seconds`` (none without a messaging component)."""
        if self.messaging is None:
            return []
        return self.messaging.tick(now_seconds)

    @staticmethod
    def _identifiers(event: Mapping[str, object]) -> list[tuple[str, str]]:
        """The event's usable identifiers in look-up order: userId, anonymousId, device id."""
        context = event.get("context")
        device = context.get("device") if isinstance(context, dict) else None
        candidates = (
            ("userId", event.get("userId")),
            ("anonymousId", event.get("anonymousId")),
            ("deviceId", device.get("id") if isinstance(device, dict) else None),
        )
        return [(kind, value) for kind, value in candidates if isinstance(value, str) and value]

    def profile_id_for(self, event: Mapping[str, object]) -> str | None:
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
        return self.identity.profile_of(kind, value)

    def lookup(self, kind: str, value: str) -> Profile | None:
        """The profile holding identifier ``value`` of ``kind`` (anonymousId/userId/deviceId)."""
        profile_id = self.profile_id_of(kind, value)
        return None if profile_id is None else self.profile(profile_id)

    def profile(self, profile_id: str) -> Profile | None:
        """A profile by id."""
        self.profiles()
        return self._index.get(profile_id)

    def profiles(self) -> Sequence[Profile]:
        """Every profile. A snapshot of the graph costs O(profiles): one is taken per read
        after new events or a merge, never one per event."""
        stamp = (self._ingested, self.identity.epoch)
        if self._index_at != stamp:
            self._snapshot = tuple(self.identity.profiles())
            self._index = {p.profile_id: p for p in self._snapshot}
            self._index_at = stamp
        return self._snapshot

    def messages(self, profile_id: str) -> list[Mapping[str, object]]:
        """Messaging decisions logged for one profile (sent or suppressed, and why), oldest
        first; none without a messaging component."""
        if self.messaging is None:
            return []
        return [d for d in self.messaging.decisions if d.get("profile_id") == profile_id]
