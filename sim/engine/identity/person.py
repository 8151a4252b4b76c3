"""Person first: after the household rules, give each owned device its person where the trace says so.

The picture: the household shelf is tidy (the TV, the laptop two partners
log into, the tablet nobody logs into), but a marketer asks "whose is it?".
Two questions are answered here, after :func:`link_probabilistically`, and
only where the evidence picks one person:

1. **Primary person of a shared device.** A laptop two accounts logged into
   went to the household (shared-device protection). It keeps its household
   through its person, and goes back onto the profile of the account that
   logged in on it first: the one it was on before protection moved it, in
   this trace the owner about six times in seven. TVs and speakers
   (``household_device_types``) stay on the household.
2. **A phone stands for a person.** A never-identified phone the scored
   rules hung on a person who already has a phone of their own (logged in
   there) is taken off again and stands alone, a member of that person's
   household: in the default population such links were wrong five times in
   eight (a partner who never logs in, not a second phone).
3. **Taking turns at home.** A never-identified device (a tablet on the
   sofa, a laptop nobody logs into; not a phone, not a TV or speaker) that
   sleeps on a home network with two or more people is compared with each of
   them: the identified residents, and every never-identified profile there
   holding a phone (a phone stands for a person). The measure is how many
   times chance the device's active ten-minute slots sit within a slot of
   that person's (:func:`lift`). One person has one pair of hands: while the
   owner is on the tablet their phone is quiet, while a partner's phone goes
   on at its own pace. So the owner is the person the device *avoids*: it
   joins the one with the lowest lift when the next lowest is at least
   :data:`TURNS_LEAD` times that and at least chance. When the evidence is
   split it stays where it was (alone, a member of the household). On the
   default population (2000 persons, 7 days, seed 11), following the
   *highest* lift instead was wrong three times in four; this rule placed
   tablets right 125 times and wrong 44 times, laptops 53 and 48 (the lead
   was chosen on seed 11 and held out on seed 23, where it moved person-level
   F0.5 the same way).

Every move is logged with its rule (``primary_person``, ``own_phone``,
``turns``) and kept in ``Profile.links``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.engine.identity.households import Households
from sim.engine.identity.identifiers import DEVICE_ID, USER_ID
from sim.engine.identity.pairing import can_pair
from sim.engine.identity.records import Reason
from sim.engine.identity.signals import Signals, Summary
from sim.engine.identity.state import ProfileState, root

if TYPE_CHECKING:
    from sim.engine.identity.graphstate import GraphState as IdentityGraph

PROBABILISTIC = "probabilistic"
PRIMARY = "primary_person"
OWN_PHONE = "own_phone"
TURNS = "turns"
TURNS_LEAD = 2.0
"""The next lowest person's lift must be at least this many times the lowest's..."""
CHANCE = 1.0
"""...and at least chance (a resident the device avoids only because all are quiet says nothing)."""
MIN_SLOTS = 6
"""A device active in fewer ten-minute slots than this says too little about turns."""
PHONE = "phone"


def link_persons(graph: IdentityGraph, shelf: Households, signals: Callable[[], Signals]) -> None:
    """The person-first pass (issue 14), after the probabilistic rules.

    ``signals``: the statistics of every device ``graph`` has seen, built when first asked.
    """
    if graph.config.deterministic:
        primary_persons(graph, shelf, shelf.all())
    if graph.config.probabilistic:
        phones_apart(graph, shelf)
    if graph.config.probabilistic and graph.config.rule_on("time"):
        take_turns(graph, signals())


def primary_persons(
    graph: IdentityGraph, shelf: Households, households: list[ProfileState]
) -> None:
    """Shared devices back onto the person of the account that sent most of their events."""
    kept = graph.config.household_device_types
    for household in households:
        for device in list(household.device_ids):
            evidence = graph.devices.get(device)
            if evidence is None or len(evidence.users) < 2 or evidence.device_type in kept:
                continue
            user = evidence.main_user()
            person = graph.registry.find(USER_ID, user) if user is not None else None
            if person is None or person.kind != "person":
                continue
            why = f"primary person of shared device {device}: the account behind most of its use"
            shelf.move_device(device, evidence, root(person), PRIMARY, why)


def phones_apart(graph: IdentityGraph, shelf: Households) -> None:
    """Scored phones on a person with a logged-in phone of their own stand alone again."""
    for state in graph.registry.live():
        if state.kind != "person":
            continue
        phones = [d for d in state.device_ids if _type(graph, d) == PHONE]
        if not any(state.link_rule(d) == "deterministic" for d in phones):
            continue
        household = shelf.of(state)
        for device in phones:
            evidence = graph.devices.get(device)
            if evidence is None or state.link_rule(device) != PROBABILISTIC:
                continue
            alone = graph.registry.new_profile("person", (DEVICE_ID, device))
            why = f"never-identified phone {device} apart from a person with a phone of their own"
            shelf.move_device(device, evidence, alone, OWN_PHONE, why)
            if household is not None:
                shelf.join(alone, household, PROBABILISTIC, "never identified; sleeps here")


def _type(graph: IdentityGraph, device: str) -> str:
    evidence = graph.devices.get(device)
    return evidence.device_type if evidence is not None else ""


def take_turns(graph: IdentityGraph, signals: Signals) -> None:
    """Never-identified devices at a home of several people join the one they take turns with.

    The people of a home: its identified residents, and every never-identified
    profile there that holds a phone (a phone stands for a person).
    """
    live = [s for s in graph.registry.live() if s.kind == "person" and s.device_ids]
    summaries = {s.number: signals.summarise(s) for s in live}
    people: dict[int, list[Summary]] = {}
    for summary in summaries.values():
        state = summary.state
        if summary.home is None:
            continue
        if state.identified() or any(signals.device_type(d) == PHONE for d in state.device_ids):
            people.setdefault(summary.home, []).append(summary)
    kept = (*graph.config.household_device_types, PHONE)
    for state in live:
        if state.identified() or state.parent is not None:
            continue
        if any(signals.device_type(d) in kept for d in state.device_ids):
            continue
        mine = summaries[state.number]
        if mine.home is None or mine.active < MIN_SLOTS:
            continue
        group = people.get(mine.home, [])
        if len(group) < 2 or len(group) > graph.config.max_household_persons:
            continue
        choice = _avoided(mine, group, signals.span)
        if choice is not None:
            person, ratio = choice
            why = f"takes turns with this person at home: the next is {ratio:.2f}x as close"
            join_person(graph, root(person.state), state, TURNS, why, min(ratio, 1e6))


def lift(mine: Summary, other: Summary, span: int) -> float:
    """How many times chance ``mine``'s active slots sit within a slot of ``other``'s."""
    if not mine.active or not other.active:
        return 0.0
    near = (mine.slot_mask & other.near_mask).bit_count() / mine.active
    chance = min(1.0, other.near_mask.bit_count() / span)
    return near / chance if chance else 0.0


def _avoided(mine: Summary, group: list[Summary], span: int) -> tuple[Summary, float] | None:
    """The resident ``mine`` takes turns with, if one stands out (ties: the older profile)."""
    ranked = sorted(
        ((lift(mine, other, span), other) for other in group),
        key=lambda item: (item[0], item[1].state.number),
    )
    lowest, runner_up = ranked[0][0], ranked[1][0]
    if runner_up >= CHANCE and runner_up >= TURNS_LEAD * lowest:
        ratio = runner_up / lowest if lowest else float("inf")
        return ranked[0][1], ratio
    return None


def join_person(
    graph: IdentityGraph,
    person: ProfileState,
    state: ProfileState,
    rule: str,
    why: str,
    score: float | None = None,
) -> None:
    """Merge the never-identified ``state`` into ``person``, its devices linked by ``rule``."""
    devices = list(state.device_ids)
    if person is state or not can_pair(graph.devices, state, person):
        return
    if not graph.registry.fits(person, state, rule):
        return
    code = Reason.DEVICE_MOVED if score is None else Reason.SCORED
    graph.registry.absorb(person, state, rule, code, (("why", why),), score)
    for device in devices:
        person.set_link(device, rule)
