"""Who the people are and where they were: ``people.jsonl`` and ``contexts.jsonl.gz``.

Both files are ground truth written by ``hopsim run``. Without them the
report falls back to truth personas and ``Context Changed`` trace events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sim.report.readers import JsonObject, ReportInputError, iter_jsonl
from sim.report.sessions import ContextChange
from sim.trace.clock import epoch_seconds
from sim.trace.truth import TruthDevice


@dataclass(frozen=True)
class PersonInfo:
    person_id: str
    name: str
    persona: str
    named: bool = False
    timezone: str | None = None
    devices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContextSpan:
    person_id: str
    start: float
    end: float
    context: str


def read_people(path: Path) -> dict[str, PersonInfo] | None:
    if not path.is_file():
        return None
    people = {}
    for number, row in iter_jsonl(path):
        person_id = row.get("person_id")
        if not isinstance(person_id, str):
            raise ReportInputError(f"{path}: line {number}: key 'person_id': expected a string")
        timezone = row.get("timezone")
        devices = row.get("devices")
        people[person_id] = PersonInfo(
            person_id,
            str(row.get("name") or row.get("persona") or person_id),
            str(row.get("persona") or ""),
            bool(row.get("named", False)),
            timezone if isinstance(timezone, str) else None,
            tuple(str(d) for d in devices) if isinstance(devices, list) else (),
        )
    return people


def with_sole_users(
    devices: dict[str, TruthDevice], people: dict[str, PersonInfo] | None
) -> dict[str, TruthDevice]:
    """Household devices used by exactly one person (Mason's TV at home) become theirs."""
    users: dict[str, list[str]] = {}
    for person in (people or {}).values():
        for device_id in person.devices:
            users.setdefault(device_id, []).append(person.person_id)
    out = dict(devices)
    for device_id, device in devices.items():
        only = users.get(device_id, [])
        if device.person_id is None and len(only) == 1:
            out[device_id] = replace(device, person_id=only[0])
    return out


def from_personas(personas: dict[str, str]) -> dict[str, PersonInfo]:
    """Stand-ins from truth when people.jsonl is missing: the persona is the name."""
    return {p: PersonInfo(p, persona.title() or p, persona) for p, persona in personas.items()}


def read_contexts(path: Path, persons: set[str]) -> list[ContextSpan] | None:
    """The context spans of ``persons`` (only theirs: the file holds everybody's)."""
    if not path.is_file():
        return None
    return [
        _span(path, number, row)
        for number, row in iter_jsonl(path)
        if row.get("person_id") in persons
    ]


def _span(path: Path, number: int, row: JsonObject) -> ContextSpan:
    try:
        start = epoch_seconds(str(row["start"]))
        end = epoch_seconds(str(row["end"]))
        return ContextSpan(str(row["person_id"]), start, end, str(row["context"]))
    except (KeyError, ValueError) as exc:
        raise ReportInputError(
            f"{path}: line {number}: expected person_id, context and ISO start/end ({exc})"
        ) from exc


def spans_from_changes(changes: list[ContextChange], end: float) -> list[ContextSpan]:
    """``Context Changed`` events (sorted per person) as spans up to the next change."""
    spans = []
    for index, change in enumerate(changes):
        following = changes[index + 1] if index + 1 < len(changes) else None
        same = following is not None and following.person_id == change.person_id
        stop = following.at if same and following is not None else end
        spans.append(ContextSpan(change.person_id, change.at, stop, change.context))
    return spans
