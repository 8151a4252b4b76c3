"""Probabilistic linking: hanging the unnamed devices, at ``finalize()``.

The rules here run once over everything observed (batch, not per event,
because home networks and co-presence only show after days of traces), in
the order :mod:`sim.engine.identity.finalize` lists. Each never-identified
profile is compared with the identified persons it could belong to
(blocking: same home network, same network-and-hour, same ten-minute slot)
and scored with :mod:`sim.engine.identity.scoring`. Household-level devices
(``household_device_types``: TV, speaker) go to the household of their home
network, never to a person. A personal device goes to the best person if
the score reaches ``threshold`` and beats the runner-up by ``margin``;
otherwise, if it sleeps on a household's network and scores at least
``household_threshold`` there, to the household; otherwise it stays alone.
A household of one is its person: devices that would go to it go to that
person.

Every function works on the graph's :class:`~sim.engine.identity.graphstate.GraphState`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sim.engine.identity.graphstate import GraphState
from sim.engine.identity.households import Households
from sim.engine.identity.pairing import can_pair
from sim.engine.identity.records import MergeRecord, Reason
from sim.engine.identity.scoring import (
    HOME,
    PATTERN_SCORES,
    PATTERNS,
    Fields,
    code_of,
    explain,
    weight,
)
from sim.engine.identity.signals import Blocks, Codes, Rows, Signals, Summary
from sim.engine.identity.state import ProfileState, own_id, root

PERSON_DEVICE = "phone"

Ranked = tuple[float, ProfileState, Fields]
"""A scored candidate: score, the person, the agreement pattern behind the score."""
Scores = npt.NDArray[np.float64]


class Homes:
    """Home networks and the households living behind them (rule ``ip``).

    Every profile, named or not, that sleeps on a non-public network lives
    there; identified persons sharing a home become one household's members.
    A network with more identified persons than ``max_household_persons``
    is not a home (a dormitory, an office that stays late).
    """

    def __init__(
        self,
        graph: GraphState,
        households: Households,
        summaries: dict[int, Summary],
        signals: Signals,
    ) -> None:
        self.graph = graph
        self.signals = signals
        self.households = households
        self.residents: dict[int, list[ProfileState]] = {}
        self.entity: dict[int, ProfileState] = {}
        self.crowded: set[int] = set()
        if not graph.config.rule_on("ip"):
            return
        for summary in summaries.values():
            if (
                summary.home is not None
                and summary.state.identified()
                and signals.lived_in(summary.home)
            ):
                self.residents.setdefault(summary.home, []).append(summary.state)
        limit = graph.config.max_household_persons
        self.crowded = {ip for ip, group in self.residents.items() if len(group) > limit}
        for ip, group in self.residents.items():
            if len(group) > 1 and ip not in self.crowded:
                self.household(ip, group[0])

    def household(self, ip: int | None, seed: ProfileState) -> ProfileState | None:
        """The household entity behind home network ``ip`` (created on first use).

        Its residents found it; a home nobody identified lives in is founded
        (and named) by ``seed``, the first device that needs it.
        """
        if ip is None or ip in self.crowded or not self.graph.config.rule_on("ip"):
            return None
        if not self.signals.lived_in(ip):
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
            created = self.households.create(seed)
        self.entity[ip] = created
        return created


def _household_type(graph: GraphState, signals: Signals, state: ProfileState) -> bool:
    types = graph.config.household_device_types
    return all(signals.device_type(d) in types for d in state.device_ids)


def to_person(
    graph: GraphState,
    signals: Signals,
    mine: Summary,
    pool: dict[int, Summary],
    blocks: Blocks,
) -> bool:
    """Merge a never-identified profile into the one person that stands out, if any."""
    if _household_type(graph, signals, mine.state):
        return False
    best = _best(graph, signals, mine, pool, blocks)
    if best is None:
        return False
    score, person, fields = best
    return _merge(graph, person, mine.state, score, explain(fields))


def _best(
    graph: GraphState,
    signals: Signals,
    mine: Summary,
    pool: dict[int, Summary],
    blocks: Blocks,
) -> Ranked | None:
    """The top candidate if it reaches ``threshold`` and leads by ``margin``.

    The first two of the ranking, found without sorting all candidates.
    """
    rows = _candidates(graph, mine, blocks)
    if not len(rows):
        return None
    scores, codes = _score(graph, signals, mine, rows, blocks)
    top, second = top_two(scores, blocks.numbers[rows])
    score = float(scores[top])
    if score >= graph.config.threshold and score - second >= graph.config.margin:
        return score, blocks.members[rows[top]].state, PATTERNS[codes[top]]
    return None


# NOTE: the head of a full sort, found without sorting (test_identity_ranking.py).
def top_two(scores: Scores, numbers: Rows) -> tuple[int, float]:
    """Where the first of a ranking best first is (ties: older profile first), and the runner-up.

    ``numbers``: the candidates' profile numbers. The best score held by
    several candidates goes to the oldest of them, and then the runner-up
    scores the same; with no runner-up, 0.
    """
    score = scores.max()
    tied = scores == score
    if np.count_nonzero(tied) > 1:
        at = np.flatnonzero(tied)
        return int(at[np.argmin(numbers[at])]), float(score)
    rest = scores[~tied]
    return int(np.argmax(tied)), float(rest.max()) if len(rest) else 0.0


def cluster_unnamed(graph: GraphState, signals: Signals, pending: list[ProfileState]) -> None:
    """Never-identified devices of one never-identified person: link pairs above ``threshold``.

    Greedy single linkage, strongest pair first. No margin here: a person's
    phone, laptop and tablet all resemble each other, so the runner-up is
    usually a sibling device, not a rival. What keeps two family members
    apart is the threshold: a shared home alone (+4.17) is not enough, the
    devices must also have met away from home.
    """
    alive = [
        s
        for s in pending
        if s.parent is None and s.device_ids and not _household_type(graph, signals, s)
    ]
    pool = {s.number: signals.summarise(s) for s in alive}
    blocks = Blocks(pool)
    pairs: list[tuple[float, int, int, Fields]] = []
    for number, summary in pool.items():
        # Only the pairs kept below are scored: the other one must be the younger profile.
        rows = _candidates(graph, summary, blocks)
        rows = rows[blocks.numbers[rows] > number]
        scores, codes = _score(graph, signals, summary, rows, blocks)
        for i in np.flatnonzero(scores >= graph.config.threshold).tolist():
            other = int(blocks.numbers[rows[i]])
            pairs.append((float(scores[i]), number, other, PATTERNS[codes[i]]))
    pairs.sort(key=lambda item: (-item[0], item[1], item[2]))
    for score, first, second, fields in pairs:
        here, there = root(pool[first].state), root(pool[second].state)
        if here is not there:
            why = f"never-identified pair; {explain(fields)}"
            _merge(graph, here, there, score, why)


def to_home(graph: GraphState, homes: Homes, signals: Signals, mine: Summary) -> None:
    """What no person claimed joins the household of its home network, if it has one.

    A TV or speaker goes onto the household entity itself; a never-identified
    personal device (or a cluster of them: someone who never logs in) stays a
    person of its own and becomes a member of the household.
    """
    household = homes.household(mine.home, mine.state)
    if household is None or weight(HOME[True]) < graph.config.household_threshold:
        return
    state = mine.state
    if _household_type(graph, signals, state):
        why = "household device on its home network"
        _to_household(graph, homes.households, state, household, weight(HOME[True]), why)
        return
    homes.households.join(state, household, "probabilistic", "never identified; sleeps here")


def _candidates(graph: GraphState, mine: Summary, blocks: Blocks) -> Rows:
    """The pool rows of the blocking candidates of ``mine`` that are still persons of their own."""
    members, state = blocks.members, mine.state
    return np.array(
        [
            row
            for row in blocks.candidate_rows(mine, graph.config.rule_on("time"))
            if (other := members[row].state).parent is None
            and other.kind == "person"
            and other is not state
        ],
        dtype=np.intp,
    )


def _score(
    graph: GraphState,
    signals: Signals,
    mine: Summary,
    rows: Rows,
    blocks: Blocks,
) -> tuple[Scores, Codes]:
    """``mine`` scored against each pool row in ``rows``, with the agreement patterns.

    Patterns as numbers (:data:`~sim.engine.identity.scoring.PATTERNS`),
    scores from the table of their scores; the reason text is only written
    for the links actually made (:func:`explain`).

    With every rule on (the usual case) all rows at once (:meth:`Signals.codes`);
    otherwise field by field, a switched-off one ``None``.
    """
    config = graph.config
    use_ip, use_time = config.rule_on("ip"), config.rule_on("time")
    use_behaviour = config.rule_on("behaviour")
    if use_ip and use_time and use_behaviour:
        codes = signals.codes(mine, blocks, rows)
    else:
        others = [blocks.members[row] for row in rows.tolist()]
        off: list[None] = [None] * len(others)
        fields = zip(
            signals.same_home(mine, others) if use_ip else off,
            signals.meetings(mine, others) if use_ip else off,
            signals.adjacency(mine, others) if use_time else off,
            signals.similar(mine, others) if use_behaviour else off,
            strict=True,
        )
        codes = np.array([code_of(f) for f in fields], dtype=np.int64)
    return PATTERN_SCORES[codes], codes


def _merge(
    graph: GraphState, person: ProfileState, state: ProfileState, score: float, why: str
) -> bool:
    devices = list(state.device_ids)
    if not can_pair(graph.devices, state, person):
        return False
    if not graph.registry.fits(person, state, "probabilistic"):
        return False
    graph.registry.absorb(person, state, "probabilistic", Reason.SCORED, (("why", why),), score)
    for device in devices:
        person.set_link(device, "probabilistic")
    return True


def _to_household(
    graph: GraphState,
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
    graph.log(
        MergeRecord(
            "probabilistic",
            "attach",
            Reason.TO_HOUSEHOLD,
            (f"profile:{own_id(state)}",),
            score,
            (("why", why),),
        )
    )
