"""Deterministic linking: tickets presented together belong on one hook.

When an event carries an install id, a device id and an account together,
they describe one person, so their profiles merge. Limits keep a bad merge
from snowballing, as in Segment Unify: if joining would give a profile two
accounts (``max_user_ids = 1``) or too many devices, the event's lowest
priority identifier is dropped and the merge retried, and the refusal is
logged with the limit that stopped it. The dropped identifier stays where it
was; a device that keeps being claimed by several accounts is marked shared
and later handed to the household rather than to either person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sim.engine.identity.config import IdentityConfig
from sim.engine.identity.extract import Identifier
from sim.engine.identity.identifiers import KINDS, USER_ID
from sim.engine.identity.records import Fact, MergeRecord, Reason
from sim.engine.identity.state import ProfileState, own_id, root

Log = Callable[[MergeRecord], None]
Broken = tuple[Reason, tuple[Fact, ...]]
"""A limit a merge would break: ``LIMIT_EXCEEDED`` with its facts, or ``HOUSEHOLD_DROPPED``."""
HOUSEHOLD_BREAK: Broken = (Reason.HOUSEHOLD_DROPPED, ())
DROPPED = {
    Reason.LIMIT_EXCEEDED: Reason.LIMIT_DROPPED,
    Reason.HOUSEHOLD_DROPPED: Reason.HOUSEHOLD_DROPPED,
}
"""The code of a refusal that dropped an identifier, by the limit it would have broken."""
RefusalKey = tuple[str, Broken, Identifier, tuple[int, ...]]
"""A logged refusal: rule, what it would break, the identifier dropped, the profiles' numbers."""


def limit_broken(kind: str, limit: int, count: int) -> Broken:
    """``count`` identifiers of ``kind`` where ``limit`` is allowed."""
    return Reason.LIMIT_EXCEEDED, (("kind", kind), ("limit", limit), ("count", count))


def renumbered(key: RefusalKey, renumber: Mapping[int, int]) -> RefusalKey:
    """A logged refusal's key with its profiles renumbered (for :mod:`.shards`)."""
    rule, broken, dropped, numbers = key
    return rule, broken, dropped, tuple(sorted(renumber[n] for n in numbers))


def short(value: str) -> str:
    """A value short enough for a log line."""
    return value if len(value) <= 20 else value[:17] + "..."


class Registry:
    """The index from every identifier to its profile, and the merge operation."""

    def __init__(self, config: IdentityConfig, log: Log) -> None:
        self.config = config
        self.log = log
        self.index: dict[str, dict[str, ProfileState]] = {kind: {} for kind in KINDS}
        self.rank = {kind: i for i, kind in enumerate(config.priority)}
        self.limits = {kind: config.limit(kind) for kind in KINDS}
        self.created = 0
        self.merges = 0
        self.refusals = 0
        self.logged_refusals: set[RefusalKey] = set()
        """Refusals already logged (one entry per rule, limit, identifier and profiles)."""

    def new_profile(self, kind: str, origin: Identifier) -> ProfileState:
        """A fresh profile named after ``origin``, the identifier that creates it."""
        self.created += 1
        return ProfileState(self.created, kind, origin)

    def find(self, kind: str, value: str) -> ProfileState | None:
        state = self.index[kind].get(value)
        return None if state is None else root(state)

    def live(self) -> list[ProfileState]:
        """Every surviving profile, in creation order."""
        seen: dict[int, ProfileState] = {}
        for table in self.index.values():
            for state in table.values():
                top = root(state)
                seen.setdefault(top.number, top)
        return [seen[n] for n in sorted(seen)]

    def link(self, ids: list[Identifier], rule: str) -> ProfileState | None:
        """Put ``ids`` on one profile, dropping low-priority ones until every limit holds."""
        live = list(ids)
        while live:
            roots, fresh = self._split(live)
            broken = self._broken_limit(roots, fresh)
            if broken is None:
                return self._join(roots, fresh, rule)
            dropped = max(live, key=lambda item: self.rank[item[0]])
            self._refuse(rule, broken, dropped, roots)
            live.remove(dropped)
        return None

    def _split(self, ids: list[Identifier]) -> tuple[list[ProfileState], list[Identifier]]:
        roots: list[ProfileState] = []
        fresh: list[Identifier] = []
        for kind, value in ids:
            state = self.index[kind].get(value)
            if state is None:
                if (kind, value) not in fresh:
                    fresh.append((kind, value))
                continue
            top = root(state)
            if top not in roots:
                roots.append(top)
        return roots, fresh

    def _broken_limit(self, roots: list[ProfileState], fresh: list[Identifier]) -> Broken | None:
        """What joining ``roots`` and ``fresh`` would break, if anything."""
        if len(roots) + len(fresh) <= 1:
            return None
        if any(r.kind == "household" for r in roots) and (
            len(roots) > 1 or any(k == USER_ID for k, _ in fresh)
        ):
            return HOUSEHOLD_BREAK
        for kind in KINDS:
            count = sum(len(r.ids(kind)) for r in roots) + sum(1 for k, _ in fresh if k == kind)
            if count > self.limits[kind]:
                return limit_broken(kind, self.limits[kind], count)
        return None

    def _refuse(
        self, rule: str, broken: Broken, dropped: Identifier, roots: list[ProfileState]
    ) -> None:
        self.refusals += 1
        key = (rule, broken, dropped, tuple(sorted(r.number for r in roots)))
        if key in self.logged_refusals or len(self.logged_refusals) > 1_000_000:
            return
        self.logged_refusals.add(key)
        code, facts = broken
        self.log(
            MergeRecord(
                rule=rule,
                action="refuse",
                code=DROPPED[code],
                ids=(f"{dropped[0]}:{dropped[1]}", *(f"profile:{own_id(r)}" for r in roots)),
                facts=(*facts, ("dropped", dropped[0]), ("value", short(dropped[1]))),
            )
        )

    def _join(self, roots: list[ProfileState], fresh: list[Identifier], rule: str) -> ProfileState:
        if not roots:
            roots = [self.new_profile("person", fresh[0])]
        target = max(roots, key=lambda r: (r.size(), -r.number))
        for other in roots:
            if other is not target:
                self.absorb(target, other, rule, Reason.PRESENTED_TOGETHER)
        for kind, value in fresh:
            target.ids(kind).append(value)
            self.index[kind][value] = target
        return target

    def absorb(
        self,
        target: ProfileState,
        other: ProfileState,
        rule: str,
        code: Reason,
        facts: tuple[Fact, ...] = (),
        score: float | None = None,
    ) -> None:
        """Move every identifier of ``other`` onto ``target`` and log the merge (why: ``code``)."""
        self.merges += 1
        for kind in KINDS:
            values = other.ids(kind)
            table = self.index[kind]
            for value in values:
                table[value] = target
            target.ids(kind).extend(values)
            values.clear()
        if other.links:
            for device, how in other.links.items():
                target.set_link(device, how)
        other.parent = target
        self.log(
            MergeRecord(
                rule=rule,
                action="merge",
                code=code,
                ids=(f"profile:{own_id(target)}", f"profile:{own_id(other)}"),
                score=score,
                facts=facts,
            )
        )

    def fits(self, target: ProfileState, other: ProfileState, rule: str) -> bool:
        """Whether merging ``other`` into ``target`` keeps every limit; logs a refusal if not."""
        broken = None
        for kind in KINDS:
            count = len(target.ids(kind)) + len(other.ids(kind))
            if count > self.limits[kind]:
                broken = limit_broken(kind, self.limits[kind], count)
                break
        if broken is None:
            return True
        self.refusals += 1
        code, facts = broken
        ids = (f"profile:{own_id(target)}", f"profile:{own_id(other)}")
        self.log(MergeRecord(rule, "refuse", code, ids, facts=facts))
        return False
