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
from typing import Any, Literal

ProfileKind = Literal["person", "household"]


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


@dataclass(frozen=True)
class MergeRecord:
    """One decision of the graph.

    ``action`` is ``merge`` (two profiles became one), ``attach`` (a device or
    person was linked to a household or person), ``refuse`` (a merge that
    would break a limit or protection) or ``reject`` (an identifier turned
    away: junk value, wrong type, absurd length). ``rule`` is the rule that
    asked (``identify``, ``alias``, ``login``, ``device``, ``traits``,
    ``probabilistic``, ``household``, ``shared_device``, ``blocklist``).
    """

    rule: str
    action: str
    reason: str
    ids: tuple[str, ...]
    score: float | None = None

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
