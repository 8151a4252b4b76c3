"""What the graph hands out: profiles and the merge log.

A profile is one coat hook with every ticket pinned to it; a household is a
shelf that holds the family's shared things (the TV, the speaker, a laptop
two people log into) and points at the hooks of the people who live there.
The merge log is the attendant's notebook: every pinning, every refusal,
with the rule that asked for it and the reason it was granted or refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypedDict

ProfileKind = Literal["person", "household"]


class GraphStats(TypedDict):
    """What ``IdentityGraph.stats()`` counts: the run summary's ``stitching.engine`` block."""

    events: int
    identifiers: int
    devices: int
    profiles: int  # person profiles
    households: int
    identified_profiles: int
    merges: int
    refused_merges: int
    probabilistic_links: int
    rejected: dict[str, int]  # rejection key -> count, sorted by key
    largest_profile_devices: int
    finalized: bool


@dataclass(frozen=True)
class Profile:
    """One stitched entity as the outside world sees it.

    ``links`` maps each device id to the rule that attached it to this
    profile: ``deterministic`` (identify/alias/login or same device),
    ``probabilistic`` (scored evidence) or ``shared_device`` (a device seen
    with several accounts, moved to the household). ``household_id`` on a
    person names the household it belongs to; ``members`` on a household
    lists its persons; ``household_rule`` says how the person joined it.
    """

    profile_id: str
    kind: ProfileKind
    device_ids: tuple[str, ...]
    anonymous_ids: tuple[str, ...]
    user_ids: tuple[str, ...]
    email_hashes: tuple[str, ...] = ()
    phone_hashes: tuple[str, ...] = ()
    household_id: str | None = None
    household_rule: str | None = None
    members: tuple[str, ...] = ()
    links: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """One line of ``profiles.jsonl``."""
        data: dict[str, Any] = {
            "profile_id": self.profile_id,
            "kind": self.kind,
            "device_ids": list(self.device_ids),
            "anonymous_ids": list(self.anonymous_ids),
            "user_ids": list(self.user_ids),
            "email_hashes": list(self.email_hashes),
            "phone_hashes": list(self.phone_hashes),
            "links": dict(self.links),
        }
        if self.kind == "household":
            data["members"] = list(self.members)
        else:
            data["household_id"] = self.household_id
            data["household_rule"] = self.household_rule
        return data


class Reason(StrEnum):
    """Why the graph wrote a log entry: one code per kind of decision.

    Each code has a text template (:data:`TEXT`) that turns the entry's
    ``facts`` into the human-readable ``reason``; programs read the code and
    the facts, never the text.
    """

    ID_REJECTED = "id_rejected"
    """An identifier was turned away. Facts: ``kind``, ``why``."""
    EVENT_IGNORED = "event_ignored"
    """A whole event was turned away. Facts: ``why``."""
    LIMIT_EXCEEDED = "limit_exceeded"
    """A merge would break a limit. Facts: ``kind``, ``limit``, ``count``."""
    LIMIT_DROPPED = "limit_dropped"
    """As ``LIMIT_EXCEEDED``; the event's lowest-priority identifier was dropped.
    Facts: ``kind``, ``limit``, ``count``, ``dropped`` (its kind), ``value`` (shortened)."""
    HOUSEHOLD_DROPPED = "household_dropped"
    """A household entity would have merged with a person; the event's lowest-priority
    identifier was dropped. Facts: ``dropped``, ``value``."""
    PRESENTED_TOGETHER = "presented_together"
    """One event carried identifiers of two profiles (the record's ``rule`` says which)."""
    HOUSEHOLDS_JOINED = "households_joined"
    """Two households became one. Facts: ``why``."""
    JOINED_HOUSEHOLD = "joined_household"
    """A person became a member of a household. Facts: ``why``."""
    HOUSEHOLD_FULL = "household_full"
    """A household already holds ``limit`` devices; the device stays put. Facts: ``limit``."""
    DEVICE_MOVED = "device_moved"
    """A device was moved onto a household (or person). Facts: ``why``."""
    SCORED = "scored"
    """A probabilistic link (the record's ``score`` is the score). Facts: ``why``."""
    TO_HOUSEHOLD = "to_household"
    """A profile's devices went to a household. Facts: ``why``."""


TEXT: dict[Reason, str] = {
    Reason.ID_REJECTED: "{kind} {why}",
    Reason.EVENT_IGNORED: "event ignored: {why}",
    Reason.LIMIT_EXCEEDED: "{kind} limit {limit} would be exceeded ({count})",
    Reason.LIMIT_DROPPED: (
        "{kind} limit {limit} would be exceeded ({count}); dropped lowest-priority {dropped}={value}"
    ),
    Reason.HOUSEHOLD_DROPPED: (
        "a household entity never merges with a person; dropped lowest-priority {dropped}={value}"
    ),
    Reason.PRESENTED_TOGETHER: "{rule} event presented identifiers of both",
    Reason.HOUSEHOLDS_JOINED: "households joined: {why}",
    Reason.JOINED_HOUSEHOLD: "person joins household: {why}",
    Reason.HOUSEHOLD_FULL: "deviceId limit {limit} of the household reached; device stays put",
    Reason.DEVICE_MOVED: "{why}",
    Reason.SCORED: "scored {score:.2f} ({why})",
    Reason.TO_HOUSEHOLD: "to household ({why})",
}
"""The ``reason`` text of each code, filled from the entry's facts (and its rule and score)."""

Fact = tuple[str, str | int]
"""One named detail of a log entry, e.g. ``("kind", "userId")`` or ``("limit", 1)``."""


def rejection_key(kind: str, why: str) -> str:
    """The ``stats()["rejected"]`` counter an identifier rejection counts under."""
    return f"{kind}: {why}"


def ignored_key(why: str) -> str:
    """The ``stats()["rejected"]`` counter an ignored event counts under."""
    return f"event: {why}"


@dataclass(frozen=True)
class MergeRecord:
    """One decision of the graph.

    ``action`` is ``merge`` (two profiles became one), ``attach`` (a device or
    person was linked to a household or person), ``refuse`` (a merge that
    would break a limit or protection) or ``reject`` (an identifier turned
    away: junk value, wrong type, absurd length). ``rule`` is the rule that
    asked (``identify``, ``alias``, ``login``, ``device``, ``traits``,
    ``probabilistic``, ``household``, ``shared_device``, ``blocklist``).
    ``code`` says why (:class:`Reason`), ``facts`` the details; ``reason``
    is the same in words.
    """

    rule: str
    action: str
    code: Reason
    ids: tuple[str, ...]
    score: float | None = None
    facts: tuple[Fact, ...] = ()

    def fact(self, name: str) -> str | int:
        """One detail by name (``KeyError`` when the entry has none of that name)."""
        for key, value in self.facts:
            if key == name:
                return value
        raise KeyError(name)

    @property
    def reason(self) -> str:
        """The decision in words, as ``profiles``' readers and people see it."""
        return TEXT[self.code].format(rule=self.rule, score=self.score, **dict(self.facts))

    def counted_as(self) -> str | None:
        """The ``stats()["rejected"]`` counter this entry was written for (rejections only)."""
        if self.code is Reason.ID_REJECTED:
            return rejection_key(str(self.fact("kind")), str(self.fact("why")))
        if self.code is Reason.EVENT_IGNORED:
            return ignored_key(str(self.fact("why")))
        return None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "action": self.action,
            "reason": self.reason,
            "ids": list(self.ids),
        }
        if self.score is not None:
            data["score"] = round(self.score, 3)
        return data
