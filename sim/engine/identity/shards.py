"""Shard-parallel identity: graphs that each saw some households, put together as one.

``hopsim run --workers N`` deals households to N processes. Each keeps its
own graph in the loop; at the end, instead of re-reading every event in one
process, the parent takes each worker's :func:`export` and builds one graph
from them (:func:`absorb`), then calls ``finalize()`` once.

Why this can be exact: deterministic linking only ever joins identifiers
that appear together, and no identifier (anonymousId, userId, device id,
email, phone) appears in two shards, so every profile, merge and refusal of
the one big graph happens, the same way, in exactly one shard graph. What
does not carry over by itself is *order*: the big graph numbers profiles,
devices, networks and event names by first sight and writes its merge log
in event order. Each shard graph noted the trace position of the event that
created each of those (:mod:`sim.engine.identity.sightings`), so absorb
renumbers them all in global trace order, sums the counters, and re-decides
the two log rules that look at the whole log (only the first rejection of
each kind, and every rejection while the log is short). Networks are the one
thing shards do share (an office, a carrier NAT): a network takes its first
sighting in any shard, its users are pooled, and it is public if more
devices than ``public_ip_devices`` used it in all shards together.
Everything that is computed from the whole population (public networks,
households, the evidence window, the probabilistic links) waits for
``finalize()`` on the absorbed graph.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from sim.engine.identity.config import IdentityConfig
from sim.engine.identity.deterministic import RefusalKey, renumbered
from sim.engine.identity.evidence import (
    MAX_NAMES,
    DeviceEvidence,
    EvidenceBook,
)
from sim.engine.identity.graphstate import GraphState, IngestKey
from sim.engine.identity.identifiers import KINDS
from sim.engine.identity.layout import renumber_meetings
from sim.engine.identity.records import MergeRecord
from sim.engine.identity.sightings import Key, Sightings
from sim.engine.identity.state import ProfileState

T = TypeVar("T", bound=Hashable)


@dataclass
class ShardIdentity:
    """Everything one shard's graph knows before ``finalize()``; picklable.

    The profiles (through the identifier index), the evidence cards and the
    book they refer to, the merge log and counters, and the first sightings
    that let :func:`absorb` put them in global order.
    """

    config: IdentityConfig
    events: int
    rejected: dict[str, int]
    created: int
    merges: int
    refusals: int
    refused: set[RefusalKey]
    index: dict[str, dict[str, ProfileState]]
    merge_log: list[MergeRecord]
    devices: dict[str, DeviceEvidence]
    book: EvidenceBook
    sightings: Sightings
    fast: dict[IngestKey, DeviceEvidence]


def export(graph: GraphState) -> ShardIdentity:
    """The graph's state as a :class:`ShardIdentity` (shares objects with the graph)."""
    if graph.finalized:
        raise ValueError("export() a shard graph before finalize(): finalize the absorbed graph")
    registry = graph.registry
    return ShardIdentity(
        config=graph.config,
        events=graph.events,
        rejected=dict(graph.rejected),
        created=registry.created,
        merges=registry.merges,
        refusals=registry.refusals,
        refused=registry.logged_refusals,
        index=registry.index,
        merge_log=graph.merge_log,
        devices=graph.devices,
        book=graph.book,
        sightings=graph.sightings,
        fast=graph.ingest_cache,
    )


def absorb(parts: Sequence[ShardIdentity], config: IdentityConfig | None = None) -> GraphState:
    """One graph's state, as if it had seen every part's events in trace order.

    Takes the parts over: their profiles, cards and log entries become the new state's.
    """
    graph = GraphState.empty(_common_config(parts, config))
    _profiles(graph, parts)
    networks = _networks(graph, parts)
    names = _names(graph, parts)
    _devices(graph, parts, networks, names)
    _merge_log(graph, parts)
    graph.events = sum(part.events for part in parts)
    graph.rejected = sum((Counter(part.rejected) for part in parts), Counter())
    for part in parts:
        graph.ingest_cache.update(part.fast)
    return graph


def _common_config(parts: Sequence[ShardIdentity], config: IdentityConfig | None) -> IdentityConfig:
    configs = [part.config for part in parts] + ([config] if config is not None else [])
    if not configs:
        return IdentityConfig()
    if any(other != configs[0] for other in configs):
        raise ValueError("absorb() needs parts made with one identity config")
    return configs[0]


def _global_order(sightings: Sequence[Sequence[Key]]) -> list[list[int]]:
    """For each part's i-th sighting, its rank among all parts' sightings (by key, then part)."""
    ranked = sorted(
        (key, part, i) for part, keys in enumerate(sightings) for i, key in enumerate(keys)
    )
    ranks = [[0] * len(keys) for keys in sightings]
    for rank, (_, part, i) in enumerate(ranked):
        ranks[part][i] = rank
    return ranks


def _profiles(graph: GraphState, parts: Sequence[ShardIdentity]) -> None:
    """Renumber every profile by the trace position of the event that created it."""
    registry = graph.registry
    ranks = _global_order([part.sightings.profiles for part in parts])
    for part, rank in zip(parts, ranks, strict=True):
        if len(part.sightings.profiles) != part.created:
            raise ValueError("absorb() needs exports of graphs that noted every profile they made")
        renumber = {old: rank[old - 1] + 1 for old in range(1, part.created + 1)}
        for state in _states(part.index):
            state.number = renumber[state.number]
        for key in part.refused:
            registry.logged_refusals.add(renumbered(key, renumber))
        for kind in KINDS:
            registry.index[kind].update(part.index[kind])
        registry.created += part.created
        registry.merges += part.merges
        registry.refusals += part.refusals
    graph.sightings.profiles = sorted(key for part in parts for key in part.sightings.profiles)


def _states(index: dict[str, dict[str, ProfileState]]) -> list[ProfileState]:
    """Every profile the index still reaches, merged-away ones on the way included."""
    found: dict[int, ProfileState] = {}
    for table in index.values():
        for state in table.values():
            walk: ProfileState | None = state
            while walk is not None and id(walk) not in found:
                found[id(walk)] = walk
                walk = walk.parent
    return list(found.values())


def _first_sights(
    parts: Sequence[ShardIdentity],
    numbered: Callable[[ShardIdentity], dict[T, int]],
    keys: Callable[[ShardIdentity], list[Key]],
) -> dict[T, tuple[Key, int]]:
    """Each value's earliest sighting in any part (key, part), for shared vocabularies."""
    first: dict[T, tuple[Key, int]] = {}
    for index, part in enumerate(parts):
        seen = keys(part)
        for value, number in numbered(part).items():
            here = (seen[number], index)
            if value not in first or here < first[value]:
                first[value] = here
    return first


def _networks(graph: GraphState, parts: Sequence[ShardIdentity]) -> list[list[int]]:
    """Number networks by global first sight; pool their users. Returns old -> new per part."""
    book = graph.book
    first = _first_sights(parts, lambda part: part.book.networks, lambda p: p.sightings.networks)
    for ip in sorted(first, key=first.__getitem__):
        book.network(ip)
        graph.sightings.networks.append(first[ip][0])
    for number in book.networks.values():
        book.users[number] = ()
    for part in parts:
        for ip, old in part.book.networks.items():
            _pool_users(book, book.networks[ip], part.book.users.get(old, ()))
    return [[book.networks[ip] for ip in part.book.networks] for part in parts]


def _pool_users(book: EvidenceBook, number: int, users: tuple[DeviceEvidence, ...] | None) -> None:
    """Add one shard's users of a network: public once more than ``limit`` devices in all."""
    pooled = book.users.get(number, ())
    if pooled is None or users is None or len(pooled) + len(users) > book.limit:
        book.users[number] = None
    else:
        book.users[number] = (*pooled, *users)


def _names(graph: GraphState, parts: Sequence[ShardIdentity]) -> list[list[int | None]]:
    """Number event names by global first sight (the first ``MAX_NAMES``); old -> new per part."""
    book = graph.book
    first = _first_sights(parts, lambda part: part.book.names, lambda p: p.sightings.names)
    for feature in sorted(first, key=first.__getitem__)[:MAX_NAMES]:
        book.name(feature)
        graph.sightings.name(first[feature][0])
    return [[book.names.get(feature) for feature in part.book.names] for part in parts]


def _devices(
    graph: GraphState,
    parts: Sequence[ShardIdentity],
    networks: list[list[int]],
    names: list[list[int | None]],
) -> None:
    """All cards, in global first-sight order, pointed at the new book's numbers."""
    cards = [
        (key, index, i, name, card)
        for index, part in enumerate(parts)
        for i, (key, (name, card)) in enumerate(
            zip(part.sightings.devices, part.devices.items(), strict=True)
        )
    ]
    cards.sort(key=lambda item: item[:3])
    remaps = [np.array(remap or [0], dtype=np.int64) for remap in networks]
    for key, index, _, name, card in cards:
        _renumber_card(card, graph.book, networks[index], remaps[index], names[index])
        graph.devices[name] = card
        graph.sightings.devices.append(key)


def _renumber_card(
    card: DeviceEvidence,
    book: EvidenceBook,
    networks: list[int],
    remap: np.ndarray,
    names: list[int | None],
) -> None:
    """Rewrite a card's network and name numbers, keeping every order it keeps."""
    card.book = book
    card.ips = {networks[ip]: packed for ip, packed in card.ips.items()}
    if card.ip_hours:
        card.ip_hours = renumber_meetings(card.ip_hours, remap)
    counts = {names[old]: count for old, count in enumerate(card.behaviour) if count}
    kept = {number: count for number, count in counts.items() if number is not None}
    vector = array("I", bytes(4 * (max(kept, default=-1) + 1)))
    for number, count in kept.items():
        vector[number] = count
    card.behaviour = vector


def _merge_log(graph: GraphState, parts: Sequence[ShardIdentity]) -> None:
    """Interleave the logs in trace order; re-decide which rejections the whole log keeps."""
    rows = sorted(
        (key, index, seq, record)
        for index, part in enumerate(parts)
        for seq, (key, record) in enumerate(_keyed(part))
    )
    seen: set[str] = set()
    for key, _, _, record in rows:
        counted = record.counted_as()
        if counted is not None:
            first = counted not in seen
            seen.add(counted)
            if not graph.keeps_rejection(first, record.code):
                continue
        graph.sightings.logged(len(graph.merge_log), len(graph.merge_log) + 1, key)
        graph.merge_log.append(record)


def _keyed(part: ShardIdentity) -> Iterable[tuple[Key, MergeRecord]]:
    """Each log entry with the key of the event that wrote it."""
    marks = part.sightings.log
    log = part.merge_log
    if log and (not marks or marks[0][0] != 0):
        raise ValueError("absorb() needs exports of graphs that noted every log entry they made")
    for i, (start, key) in enumerate(marks):
        end = marks[i + 1][0] if i + 1 < len(marks) else len(log)
        for record in log[start:end]:
            yield key, record
