"""``finalize()``: the batch passes that run over everything a graph has seen.

The attendant has pinned every ticket that came with a name; now, at the
end of the run, the detective goes over the hooks in a fixed order of
passes. Each pass is a short function over one :class:`Finalizing` record
(the graph's :class:`~sim.engine.identity.graphstate.GraphState` plus what
earlier passes worked out), listed in :data:`PASSES` with the config switch
that turns it on. A new rule is a new :class:`Pass` in that list; the rules
themselves live in :mod:`sim.engine.identity.households` and
:mod:`sim.engine.identity.probabilistic`.

1. ``households``: household entities made by an earlier ``finalize()`` are
   kept (a second call links only what is still unlinked).
2. ``shared_devices`` (``deterministic``): a device two or more accounts
   logged into goes to their household (rule ``shared_device``).
3. ``evidence`` (``probabilistic``): population statistics (public networks,
   crowding per window), one summary per person, home networks and the
   households of persons sharing one (rule ``ip``), blocking keys of the
   identified persons.
4. ``to_person`` (``probabilistic``): each never-identified profile goes to
   the identified person that stands out, if one does.
5. ``cluster_unnamed`` (``probabilistic``): never-identified profiles that
   look like one never-identified person are linked together.
6. ``companion`` (``probabilistic`` and rule ``ip``,
   :mod:`sim.engine.identity.companion`): a loose device joins the one
   person (a phone or an account) of its home that a second piece of
   evidence names: a second shared network, or an outing few others made
   (it took the place of ``lone_phone``, which gave a one-phone home's loose
   devices to that phone on the home address alone and was wrong more often
   than right).
7. ``to_home`` (``probabilistic``): what is left joins the household of its
   home network (TVs and speakers onto the household itself).
8. ``person_first`` (issue 14; its rules switch on with ``deterministic``,
   ``probabilistic`` and the ``ip``/``time`` rules, see
   :mod:`sim.engine.identity.person`): each owned device towards its person
   where the trace picks one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sim.engine.identity.companion import companions
from sim.engine.identity.config import IdentityConfig
from sim.engine.identity.graphstate import GraphState
from sim.engine.identity.households import Households, protect_shared_devices
from sim.engine.identity.person import link_persons
from sim.engine.identity.probabilistic import (
    Homes,
    cluster_unnamed,
    to_home,
    to_person,
)
from sim.engine.identity.signals import Blocks, Signals, Summary
from sim.engine.identity.state import ProfileState


@dataclass
class Evidence:
    """What the probabilistic passes share: statistics, summaries, homes, blocking keys."""

    signals: Signals
    persons: list[ProfileState]
    """Every live person, in creation order, when the evidence was gathered."""
    summaries: dict[int, Summary]
    """Each of ``persons`` summarised, by profile number."""
    named: dict[int, Summary]
    """The summaries of identified persons: the candidates a device may go to."""
    homes: Homes
    blocks: Blocks
    """Blocking keys of ``named``."""


@dataclass
class Finalizing:
    """The record the passes of one ``finalize()`` work on."""

    graph: GraphState
    households: Households
    evidence: Evidence | None = None
    """Set by the ``evidence`` pass."""
    pending: list[ProfileState] = field(default_factory=list)
    """Never-identified profiles no person claimed (``to_person``)."""
    left: list[Summary] = field(default_factory=list)
    """What ``cluster_unnamed`` left alone, summarised again."""
    built: Signals | None = None
    """The population statistics, once a pass asked for them (:meth:`signals`)."""

    # NOTE: one Signals for all passes, not one per pass (tests/engine/test_identity_tricks.py).
    def signals(self) -> Signals:
        """The statistics of every device seen, built by the first pass that asks.

        Finalize moves devices between profiles but never changes what a
        device was seen doing, nor which networks are public, so the
        statistics (and each profile's summary while its devices stay the
        same) are the same for every pass: built once, not once per pass.
        """
        if self.built is None:
            self.built = population_signals(self.graph)
        return self.built

    def gathered(self) -> Evidence:
        """The ``evidence`` pass's result (a pass that needs it runs after that pass)."""
        if self.evidence is None:
            raise RuntimeError("this finalize pass runs after the 'evidence' pass")
        return self.evidence


@dataclass(frozen=True)
class Pass:
    """One step of ``finalize()``: its name, when it runs, what it does."""

    name: str
    applies: Callable[[IdentityConfig], bool]
    run: Callable[[Finalizing], None]


def keep_households(work: Finalizing) -> None:
    """Household entities an earlier ``finalize()`` made stay households."""
    for state in work.graph.registry.live():
        if state.kind == "household":
            work.households.entities[state.number] = state


def shared_devices(work: Finalizing) -> None:
    protect_shared_devices(work.graph.registry, work.households, work.graph.devices)


def population_signals(graph: GraphState) -> Signals:
    """Public networks, crowding, homes: the statistics of every device ``graph`` has seen."""
    return Signals(graph.devices, graph.book.public(), graph.config.household_device_types)


def gather_evidence(work: Finalizing) -> None:
    graph = work.graph
    signals = work.signals()
    persons = [s for s in graph.registry.live() if s.kind == "person"]
    summaries = {s.number: signals.summarise(s) for s in persons}
    named = {n: summary for n, summary in summaries.items() if summary.state.identified()}
    homes = Homes(graph, work.households, summaries, signals)
    work.evidence = Evidence(signals, persons, summaries, named, homes, Blocks(named))


def persons_claim(work: Finalizing) -> None:
    found = work.gathered()
    for state in found.persons:
        unnamed = state.parent is None and not state.identified() and state.device_ids
        if unnamed and not to_person(
            work.graph, found.signals, found.summaries[state.number], found.named, found.blocks
        ):
            work.pending.append(state)


def unnamed_cluster(work: Finalizing) -> None:
    signals = work.gathered().signals
    cluster_unnamed(work.graph, signals, work.pending)
    work.left = [signals.summarise(s) for s in work.pending if s.parent is None and s.device_ids]


def homes_take_rest(work: Finalizing) -> None:
    found = work.gathered()
    for summary in work.left:
        if summary.state.parent is None and summary.state.device_ids:
            to_home(work.graph, found.homes, found.signals, summary)


def person_first(work: Finalizing) -> None:
    link_persons(work.graph, work.households, work.signals)


def corroborated_companions(work: Finalizing) -> None:
    companions(work.graph, work.signals())


def always(config: IdentityConfig) -> bool:
    return True


def deterministic(config: IdentityConfig) -> bool:
    return config.deterministic


def probabilistic(config: IdentityConfig) -> bool:
    return config.probabilistic


def homes_on(config: IdentityConfig) -> bool:
    return config.probabilistic and config.rule_on("ip")


PASSES: tuple[Pass, ...] = (
    Pass("households", always, keep_households),
    Pass("shared_devices", deterministic, shared_devices),
    Pass("evidence", probabilistic, gather_evidence),
    Pass("to_person", probabilistic, persons_claim),
    Pass("cluster_unnamed", probabilistic, unnamed_cluster),
    Pass("companion", homes_on, corroborated_companions),
    Pass("to_home", probabilistic, homes_take_rest),
    Pass("person_first", always, person_first),
)
"""The passes of ``finalize()``, in order (see the module docstring)."""


def run_passes(graph: GraphState, passes: Sequence[Pass] = PASSES) -> list[ProfileState]:
    """Run each pass the config turns on over ``graph``; returns the live households."""
    work = Finalizing(graph, Households(graph.registry))
    for step in passes:
        if step.applies(graph.config):
            step.run(work)
    return work.households.all()
