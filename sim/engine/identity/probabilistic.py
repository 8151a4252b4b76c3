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
    signals = Signals(
        graph.devices, graph.config.public_ip_devices, graph.config.household_device_types
    )
    persons = [s for s in registry.live() if s.kind == "person"]
    summaries = {s.number: signals.summarise(s) for s in persons}
    named = {n: summary for n, summary in summaries.items() if summary.state.identified()}
    homes = Homes(graph, households, summaries)
    for state in persons:
        if state.parent is None and not state.identified() and state.device_ids:
            _place(graph, homes, signals, summaries[state.number], named)
    return households.all()


class Homes:
    """Home networks and the households living behind them (rule ``ip``).

    Every profile, named or not, that sleeps on a non-public network lives
    there; identified persons sharing a home become one household's members.
    A network with more identified persons than ``max_household_persons``
    is not a home (a dormitory, an office that stays late).
    """

    def __init__(
        self, graph: IdentityGraph, households: Households, summaries: dict[int, Summary]
    ) -> None:
        self.graph = graph
        self.households = households
        self.residents: dict[int, list[ProfileState]] = {}
        self.entity: dict[int, ProfileState] = {}
        self.crowded: set[int] = set()
        if not graph.config.rule_on("ip"):
            return
        for summary in summaries.values():
            if summary.home is not None and summary.state.identified():
                self.residents.setdefault(summary.home, []).append(summary.state)
        limit = graph.config.max_household_persons
        self.crowded = {ip for ip, group in self.residents.items() if len(group) > limit}
        for ip, group in self.residents.items():
            if len(group) > 1 and ip not in self.crowded:
                self.household(ip)

    def household(self, ip: int | None) -> ProfileState | None:
        """The household entity behind home network ``ip`` (created on first use)."""
        if ip is None or ip in self.crowded or not self.graph.config.rule_on("ip"):
            return None
        found = self.entity.get(ip)
        if found is not None:
            return root(found)
        members = [root(p) for p in self.residents.get(ip, [])]
        if members:
            created = self.households.gather(
                members, "probabilistic", "persons share a home network"
            )
        else:
            created = self.households.create()
        self.entity[ip] = created
        return created


def _place(
    graph: IdentityGraph,
    homes: Homes,
    signals: Signals,
    mine: Summary,
    named: dict[int, Summary],
) -> None:
    config = graph.config
    state = mine.state
    shared_type = all(
        signals.device_type(d) in config.household_device_types for d in state.device_ids
    )
    if not shared_type:
        ranked = _rank(graph, signals, mine, named)
        if ranked:
            best_score, best, why = ranked[0]
            second = ranked[1][0] if len(ranked) > 1 else 0.0
            if best_score >= config.threshold and best_score - second >= config.margin:
                _merge(graph, best, state, best_score, why)
                return
    household = homes.household(mine.home)
    if household is not None and weight(HOME[True]) >= config.household_threshold:
        why = (
            "household device on its home network" if shared_type else "no single person stands out"
        )
        _to_household(graph, homes.households, state, household, weight(HOME[True]), why)


def _rank(
    graph: IdentityGraph, signals: Signals, mine: Summary, named: dict[int, Summary]
) -> list[tuple[float, ProfileState, str]]:
    config = graph.config
    ranked: list[tuple[float, ProfileState, str]] = []
    for number in signals.candidates(mine, named, config.rule_on("time")):
        person = named[number].state
        if person.parent is not None or person.kind != "person":
            continue
        bits, networks = (
            signals.copresence(mine, named[number]) if config.rule_on("ip") else (0.0, 0)
        )
        comparison = Comparison(
            home=(mine.home in named[number].homes)
            if config.rule_on("ip") and mine.home is not None
            else None,
            copresence_bits=bits if config.rule_on("ip") else None,
            copresence_networks=networks,
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
    if not graph.registry.fits(person, state, "probabilistic"):
        return
    graph.registry.absorb(person, state, "probabilistic", f"scored {score:.2f} ({why})", score)
    for device in devices:
        person.set_link(device, "probabilistic")


def _to_household(
    graph: IdentityGraph,
    households: Households,
    state: ProfileState,
    household: ProfileState,
    score: float,
    why: str,
) -> None:
    for device in list(state.device_ids):
        evidence = graph.devices.get(device)
        if evidence is not None:
            households.move_device(device, evidence, household, "probabilistic", why)
    graph.registry.log(
        MergeRecord(
            "probabilistic", "attach", f"to household ({why})", (f"profile:{state.number}",), score
        )
    )
