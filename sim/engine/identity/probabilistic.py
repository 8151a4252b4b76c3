"""Probabilistic linking: hanging the unnamed devices, at ``finalize()``.

Run once over everything observed (batch, not per event, because home
networks and co-presence only show after days of traces). In order:

1. shared-device protection (deterministic, always on): a device two accounts
   logged into goes to their household;
2. households: persons whose devices sleep on the same (non-public) home
   network are grouped into one household (rule ``ip``);
3. each never-identified profile is compared with the identified persons it
   could belong to (blocking: same home network, same network-and-hour, same
   ten-minute slot) and scored with :mod:`sim.engine.identity.scoring`.
   Household-level devices (``household_device_types``: TV, speaker) go to
   the household of their home network, never to a person. A personal device
   goes to the best person if the score reaches ``threshold`` and beats the
   runner-up by ``margin``; otherwise, if it sleeps on a household's network
   and scores at least ``household_threshold`` there, to the household;
   otherwise it stays alone. A household of one is its person: devices that
   would go to it go to that person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.engine.identity.households import Households, protect_shared_devices
from sim.engine.identity.records import MergeRecord
from sim.engine.identity.scoring import HOME, Comparison, weight
from sim.engine.identity.signals import Signals, Summary
from sim.engine.identity.state import ProfileState, root

if TYPE_CHECKING:
    from sim.engine.identity.graph import IdentityGraph


def link_probabilistically(graph: IdentityGraph) -> list[ProfileState]:
    """Shared-device protection, households and scored links; returns the households."""
    registry = graph.registry
    households = Households(registry)
    for state in registry.live():
        if state.kind == "household":
            households.entities[state.number] = state
    if graph.config.deterministic:
        protect_shared_devices(registry, households, graph.devices)
    if not graph.config.probabilistic:
        return households.all()
    signals = Signals(graph.devices, graph.config.public_ip_devices)
    persons = [s for s in registry.live() if s.kind == "person"]
    named = {s.number: signals.summarise(s) for s in persons if s.identified()}
    homes = _group_homes(graph, households, persons, named)
    for state in persons:
        if state.parent is None and not state.identified() and state.device_ids:
            _place(graph, households, signals, state, named, homes)
    return households.all()


def _group_homes(
    graph: IdentityGraph,
    households: Households,
    persons: list[ProfileState],
    named: dict[int, Summary],
) -> dict[str, list[ProfileState]]:
    """Identified persons grouped by home network; groups of two or more become households."""
    homes: dict[str, list[ProfileState]] = {}
    if not graph.config.rule_on("ip"):
        return homes
    for state in persons:
        summary = named.get(state.number)
        if summary is not None and summary.home is not None:
            homes.setdefault(summary.home, []).append(state)
    for ip, group in list(homes.items()):
        if len(group) > graph.config.max_household_persons:
            del homes[ip]
        elif len(group) > 1:
            households.gather(group, "probabilistic", "persons share a home network")
    return homes


def _place(
    graph: IdentityGraph,
    households: Households,
    signals: Signals,
    state: ProfileState,
    named: dict[int, Summary],
    homes: dict[str, list[ProfileState]],
) -> None:
    config = graph.config
    mine = signals.summarise(state)
    ranked = _rank(graph, signals, mine, named)
    home_group = homes.get(mine.home, []) if mine.home is not None else []
    shared_type = all(
        signals.device_type(d) in config.household_device_types for d in state.device_ids
    )
    if shared_type:
        if home_group:
            _to_household(graph, households, state, home_group, weight(HOME[True]), "home network")
        return
    if ranked:
        best_score, best, why = ranked[0]
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        if best_score >= config.threshold and best_score - second >= config.margin:
            _merge(graph, best, state, best_score, why)
            return
    if home_group and weight(HOME[True]) >= config.household_threshold:
        _to_household(graph, households, state, home_group, weight(HOME[True]), "ambiguous person")


def _rank(
    graph: IdentityGraph, signals: Signals, mine: Summary, named: dict[int, Summary]
) -> list[tuple[float, ProfileState, str]]:
    config = graph.config
    ranked: list[tuple[float, ProfileState, str]] = []
    for number in signals.candidates(mine, named, config.rule_on("time")):
        person = named[number].state
        if person.parent is not None or person.kind != "person":
            continue
        comparison = Comparison(
            home=(mine.home in named[number].homes) if config.rule_on("ip") and mine.home else None,
            copresence_bits=signals.copresence(mine, named[number])
            if config.rule_on("ip")
            else None,
            adjacent=signals.adjacent(mine, named[number]) if config.rule_on("time") else None,
            similar=signals.similar(mine, named[number]) if config.rule_on("behaviour") else None,
        )
        ranked.append((comparison.score(), person, comparison.explain()))
    ranked.sort(key=lambda item: (-item[0], item[1].number))
    return ranked


def _merge(
    graph: IdentityGraph, person: ProfileState, state: ProfileState, score: float, why: str
) -> None:
    devices = list(state.device_ids)
    graph.registry.absorb(person, state, "probabilistic", f"scored {score:.2f} ({why})", score)
    for device in devices:
        person.set_link(device, "probabilistic")


def _to_household(
    graph: IdentityGraph,
    households: Households,
    state: ProfileState,
    group: list[ProfileState],
    score: float,
    why: str,
) -> None:
    members = [root(p) for p in group]
    if len({p.number for p in members}) == 1:
        _merge(graph, members[0], state, score, f"household of one; {why}")
        return
    household = households.gather(members, "probabilistic", "persons share a home network")
    for device in list(state.device_ids):
        evidence = graph.devices.get(device)
        if evidence is not None:
            households.move_device(
                device, evidence, household, "probabilistic", f"{why}: household device"
            )
    graph.registry.log(
        MergeRecord(
            "probabilistic", "attach", f"to household ({why})", (f"profile:{state.number}",), score
        )
    )
