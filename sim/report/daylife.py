"""A day in the life of a named persona: device sessions and context bands by local hour."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from sim.engine.messaging.clock import zone
from sim.report.behaviour import local_time, ordered_types
from sim.report.persons import ContextSpan, PersonInfo
from sim.report.sessions import Session

NAMED_PERSONAS = ("mason", "susan", "kaylee")
MERGE_GAP_H = 0.5
ACTIVE_GAP_H = 1.5
ACTIVE = "active"


@dataclass(frozen=True)
class Span:
    """A bar on row ``row`` from ``start_h`` to ``end_h`` (local hours, 0-24)."""

    row: int
    start_h: float
    end_h: float


@dataclass(frozen=True)
class Band:
    start_h: float
    end_h: float
    label: str


@dataclass(frozen=True)
class DayInLife:
    name: str
    person_id: str
    date: str
    timezone: str
    rows: list[str]
    spans: list[Span]
    bands: list[Band]
    bands_from_sessions: bool


def choose(
    histories: dict[str, list[Session]],
    people: dict[str, PersonInfo],
    names: tuple[str, ...] = NAMED_PERSONAS,
) -> list[tuple[str, str]]:
    """``(name, person_id)`` for each named persona in the run: the one using most devices."""
    chosen = []
    for name in names:
        candidates = [p for p in pick(people, name) if p in histories]
        if candidates:
            devices = {p: len({s.device_id for s in histories[p]}) for p in candidates}
            chosen.append((name, max(candidates, key=lambda p: devices[p])))
    return chosen


def days_in_life(
    histories: dict[str, list[Session]],
    chosen: list[tuple[str, str]],
    contexts: list[ContextSpan],
    people: dict[str, PersonInfo],
) -> list[DayInLife]:
    """One busy day (most devices used) of each chosen person."""
    out = []
    for name, person in chosen:
        mine = [c for c in contexts if c.person_id == person]
        info = people[person]
        plain = info.named or info.name.lower() == name
        title = info.name if plain else f"{info.name} ({name} persona)"
        out.append(day_in_life(title, histories[person], mine, info.timezone))
    return out


def pick(people: dict[str, PersonInfo], name: str) -> list[str]:
    """People named ``name`` in the scenario, else everybody of that persona."""
    named = [p.person_id for p in people.values() if p.named and _first(p.name) == name]
    if named:
        return sorted(named)
    return sorted(p.person_id for p in people.values() if p.persona.lower() == name)


def _first(name: str) -> str:
    return name.split()[0].lower() if name.split() else ""


def busiest_day(history: list[Session], timezone: str) -> date:
    """The local date with the most distinct devices, then the most sessions, then earliest."""
    devices: dict[date, set[str]] = defaultdict(set)
    count: Counter[date] = Counter()
    for session in history:
        day = local_time(session.start, timezone).date()
        devices[day].add(session.device_id)
        count[day] += 1
    return min(devices, key=lambda d: (-len(devices[d]), -count[d], d))


def day_in_life(
    name: str, history: list[Session], contexts: list[ContextSpan], timezone: str | None = None
) -> DayInLife:
    timezone = timezone or history[0].timezone
    day = busiest_day(history, timezone)
    person = history[0].person_id
    midnight = datetime.combine(day, time(), zone(timezone)).timestamp()
    rows = device_rows(history)
    spans = [
        Span(rows.index(label), *clipped)
        for session, label in zip(history, session_labels(history), strict=True)
        if (clipped := _clip(session.start, session.end, midnight)) is not None
    ]
    bands = context_bands(contexts, midnight)
    from_sessions = not bands
    if from_sessions:
        bands = session_bands(history, midnight)
    return DayInLife(name, person, day.isoformat(), timezone, rows, spans, bands, from_sessions)


def _hours(at: float, midnight: float) -> float:
    return (at - midnight) / 3600.0


def _clip(start: float, end: float, midnight: float) -> tuple[float, float] | None:
    low, high = _hours(start, midnight), _hours(end, midnight)
    if high < 0 or low >= 24:
        return None
    return max(low, 0.0), min(high, 24.0)


def session_labels(history: list[Session]) -> list[str]:
    """``phone`` or, when a person has two devices of one type, ``phone 1`` / ``phone 2``."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for session in history:
        if session.device_id not in by_type[session.device_type]:
            by_type[session.device_type].append(session.device_id)
    labels = []
    for session in history:
        ids = by_type[session.device_type]
        suffix = f" {ids.index(session.device_id) + 1}" if len(ids) > 1 else ""
        labels.append(session.device_type + suffix)
    return labels


def device_rows(history: list[Session]) -> list[str]:
    labels = set(session_labels(history))
    types = ordered_types(label.split(" ")[0] for label in labels)
    return [label for kind in types for label in sorted(labels) if label.split(" ")[0] == kind]


def context_bands(spans: list[ContextSpan], midnight: float) -> list[Band]:
    """Context spans clipped to the day, as local hours; touching equal labels merged."""
    bands = []
    for span in sorted(spans, key=lambda s: s.start):
        clipped = _clip(span.start, span.end, midnight)
        if clipped is not None and clipped[1] > clipped[0]:
            bands.append(Band(clipped[0], clipped[1], span.context))
    return _merge_same(bands)


def _merge_same(bands: list[Band]) -> list[Band]:
    merged: list[Band] = []
    for band in bands:
        last = merged[-1] if merged else None
        if last and last.label == band.label and band.start_h - last.end_h < 1e-6:
            merged[-1] = Band(last.start_h, max(last.end_h, band.end_h), band.label)
        elif band.end_h > band.start_h:
            merged.append(band)
    return merged


def session_bands(history: list[Session], midnight: float) -> list[Band]:
    """Without context events: each session's own ``context``, else merged active periods."""
    bands = []
    for session in history:
        clipped = _clip(session.start, session.end, midnight)
        if clipped is not None:
            end = max(clipped[1], clipped[0] + 0.1)
            bands.append(Band(clipped[0], end, session.context or ACTIVE))
    bands.sort(key=lambda b: b.start_h)
    merged: list[Band] = []
    for band in bands:
        last = merged[-1] if merged else None
        gap = ACTIVE_GAP_H if band.label == ACTIVE else MERGE_GAP_H
        if last and last.label == band.label and band.start_h - last.end_h <= gap:
            merged[-1] = Band(last.start_h, max(last.end_h, band.end_h), band.label)
        else:
            merged.append(band)
    return merged
