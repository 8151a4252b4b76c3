"""Households: the shelf for things a family shares.

A TV in the living room, an Echo Dot in the kitchen, a laptop two partners
both log into: these belong to no single person, and hanging them on one
person's hook would (through that person's other devices) fuse the family
into one customer. They go on a household entity instead (``kind:
"household"``), which lists its members; the persons keep their own hooks.

Households are only made at ``finalize()``. A household is named after the
profile it grew from (its earliest member, or the TV that found an empty
home), so its id, like a person's, depends on its own family's events only.
"""

from __future__ import annotations

from sim.engine.identity.deterministic import Registry
from sim.engine.identity.evidence import DeviceEvidence
from sim.engine.identity.identifiers import ANONYMOUS_ID, DEVICE_ID
from sim.engine.identity.records import MergeRecord, Reason
from sim.engine.identity.state import ProfileState, own_id, root


class Households:
    """Creates household entities, joins persons to them, moves devices onto them."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.members: dict[int, list[ProfileState]] = {}
        self.entities: dict[int, ProfileState] = {}

    def of(self, person: ProfileState) -> ProfileState | None:
        return None if person.household is None else root(person.household)

    def all(self) -> list[ProfileState]:
        return [h for n, h in sorted(self.entities.items()) if h.parent is None]

    def create(self, seed: ProfileState) -> ProfileState:
        """A household named after ``seed``, the first profile that needs it."""
        top = root(seed)
        household = self.registry.new_profile("household", (top.origin_kind, top.origin))
        self.entities[household.number] = household
        return household

    def gather(self, persons: list[ProfileState], rule: str, reason: str) -> ProfileState:
        """One household holding every person in ``persons``.

        Only hard evidence (a device two of them log into) merges two existing
        households; a probabilistic grouping leaves persons of another household alone.
        """
        existing = [h for h in (self.of(p) for p in persons) if h is not None]
        if existing:
            target = existing[0]
        else:
            target = self.create(min(persons, key=lambda p: root(p).number))
        self.entities[target.number] = target
        if rule != "shared_device":
            persons = [p for p in persons if self.of(p) is None or self.of(p) is target]
            existing = []
        for other in existing[1:]:
            if other is not target and self.registry.fits(target, other, rule):
                for member in self.members.pop(other.number, []):
                    self.members.setdefault(target.number, []).append(member)
                self.registry.absorb(
                    target, other, rule, Reason.HOUSEHOLDS_JOINED, (("why", reason),)
                )
        for person in persons:
            if self.of(person) is not target:
                self._attach(person, target, rule, reason)
        return root(target)

    def join(self, person: ProfileState, household: ProfileState, rule: str, reason: str) -> None:
        """Make ``person`` a member of ``household`` (unless it already belongs to one)."""
        if self.of(person) is not None:
            return
        self._attach(person, root(household), rule, reason)

    def _attach(self, person: ProfileState, target: ProfileState, rule: str, reason: str) -> None:
        person.household = target
        person.household_rule = rule
        self.members.setdefault(target.number, []).append(person)
        self.registry.log(
            MergeRecord(
                rule,
                "attach",
                Reason.JOINED_HOUSEHOLD,
                (f"profile:{own_id(person)}", f"household:{own_id(target)}"),
                facts=(("why", reason),),
            )
        )

    def move_device(
        self, device_id: str, evidence: DeviceEvidence, target: ProfileState, rule: str, reason: str
    ) -> None:
        """Take a device (and its install ids, as many as the limit allows) onto ``target``."""
        owner = self.registry.find(DEVICE_ID, device_id)
        if owner is None or owner is target:
            return
        limit = self.registry.limits[DEVICE_ID]
        if len(target.device_ids) >= limit:
            self.registry.refusals += 1
            self.registry.log(
                MergeRecord(
                    rule,
                    "refuse",
                    Reason.HOUSEHOLD_FULL,
                    (f"deviceId:{device_id}", f"household:{own_id(target)}"),
                    facts=(("limit", limit),),
                )
            )
            return
        index = self.registry.index
        owner.device_ids.remove(device_id)
        if owner.links is not None:
            owner.links.pop(device_id, None)
        target.device_ids.append(device_id)
        index[DEVICE_ID][device_id] = target
        room = self.registry.limits[ANONYMOUS_ID] - len(target.anonymous_ids)
        for anon in evidence.anons:
            if anon in owner.anonymous_ids and room > 0:
                room -= 1
                owner.anonymous_ids.remove(anon)
                target.anonymous_ids.append(anon)
                index[ANONYMOUS_ID][anon] = target
        target.set_link(device_id, rule)
        self.registry.log(
            MergeRecord(
                rule,
                "attach",
                Reason.DEVICE_MOVED,
                (
                    f"deviceId:{device_id}",
                    f"profile:{own_id(owner)}",
                    f"{target.kind}:{own_id(target)}",
                ),
                facts=(("why", reason),),
            )
        )


def protect_shared_devices(
    registry: Registry, households: Households, devices: dict[str, DeviceEvidence]
) -> None:
    """A device on which two or more accounts logged in goes to their household."""
    for name, evidence in devices.items():
        if len(evidence.users) < 2:
            continue
        persons: list[ProfileState] = []
        for user in evidence.users:
            person = registry.find("userId", user)
            if person is not None and person.kind == "person" and person not in persons:
                persons.append(person)
        if len(persons) < 2:
            continue
        reason = f"device {name} used by {len(persons)} accounts"
        household = households.gather(persons, "shared_device", reason)
        households.move_device(name, evidence, household, "shared_device", reason)
