"""Scoring someone else's identity graph with hopsim's own scorer.

An external system hands back profiles as identifiers, not devices: "profile
42 holds anonymousId a, userId u and email e". The truth is about devices, so
each identifier is first looked up in what the run knows:

- ``deviceId``: the device itself; ``anonymousId``: the device that carried it
  (truth ``anonymous_ids``);
- ``userId``: every device that user logged in on (truth ``user_ids``);
- ``email`` / ``email_sha256``: every device an identify call sent that
  address from (the trace's identify traits; hashed the engine's way:
  trimmed, lower-cased, SHA-256).

A device claimed by several profiles (two of its anonymous ids on different
profiles, or a shared laptop whose users sit on different profiles) goes to
the profile naming it through the most device identifiers (deviceId,
anonymousId), then through the most person identifiers (userId, email),
then to the smallest profile id; such devices are counted as ``contested``. A device the trace shows but the output never mentions is
scored as a profile of its own (an anonymous visitor nobody resolved) and
counted as ``unmentioned``; identifiers that match nothing the run knows are
counted per type as ``unknown``. Nothing is dropped silently.

The profiles so built (one ``person`` profile per external profile id, no
households) go through ``sim.analysis.stitching.score``: the very function
that writes the run's own ``stitching`` block, so the two are comparable
definition for definition. hopsim's own ``profiles.jsonl`` goes through it
unchanged and scores exactly as the run did.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from sim.analysis.stitching import score
from sim.engine.identity.identifiers import hash_email
from sim.errors import HopsimError
from sim.trace.reader import read_jsonl
from sim.warehouse.naming import snake
from sim.warehouse.sources import Table, first_line

IDENTIFIER_TYPES = ("anonymousId", "userId", "deviceId", "email", "email_sha256")
CANONICAL = {snake(t): t for t in IDENTIFIER_TYPES}
DEVICE_LEVEL = frozenset({"deviceId", "anonymousId"})

# Known shapes: (type column, identifier column, profile column).
ROW_SHAPES = (
    ("identifier_type", "identifier", "profile_id"),  # hopsim's own plain shape
    ("other_id_type", "other_id", "user_main_id"),  # RudderStack ID stitcher
    ("external_id_type", "external_id_value", "segment_id"),  # Segment Profiles Sync
)
EDGE_SHAPE = ("id1", "id1_type", "id2", "id2_type")


@dataclass
class Directory:
    """What the run knows: every identifier's devices, and which devices the trace shows."""

    truth_rows: list[dict[str, Any]]
    devices: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def lookup(self, kind: str, value: str) -> set[str]:
        if kind == "email":
            hashed = hash_email(value)
            return self.devices["email_sha256"].get(hashed, set()) if hashed else set()
        key = value.lower() if kind == "email_sha256" else value
        return self.devices[kind].get(key, set())


def read_truth_rows(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "truth.jsonl.gz"
    if not path.is_file():
        raise HopsimError(
            f"{run_dir}: no truth.jsonl.gz here; scoring needs the run's ground truth "
            "(a folder written by `hopsim run`)"
        )
    return list(read_jsonl(path))


def directory(run_dir: Path) -> Directory:
    """The truth's identifiers, plus the trace's devices and identify e-mails."""
    found = Directory(read_truth_rows(run_dir))
    index: dict[str, dict[str, set[str]]] = {t: defaultdict(set) for t in IDENTIFIER_TYPES}
    for row in found.truth_rows:
        device = str(row["device_id"])
        index["deviceId"][device].add(device)
        for anonymous in row.get("anonymous_ids") or ():
            index["anonymousId"][str(anonymous)].add(device)
        for user in row.get("user_ids") or ():
            index["userId"][str(user)].add(device)
    for device, emails in _trace_devices(run_dir / "trace.jsonl.gz"):
        found.seen.add(device)
        for email in emails:
            hashed = hash_email(email)
            if hashed:
                index["email_sha256"][hashed].add(device)
    found.devices = index
    return found


def _trace_devices(trace: Path) -> list[tuple[str, list[str]]]:
    """Every device in the trace with the e-mails its identify calls carried (DuckDB scan)."""
    if not trace.is_file():
        raise HopsimError(f"{trace.parent}: no trace.jsonl.gz here; scoring needs the run's trace")
    columns = "{'context': 'STRUCT(device STRUCT(id VARCHAR))', 'traits': 'STRUCT(email VARCHAR)'}"
    path = str(trace).replace("'", "''")
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT context.device.id, list(DISTINCT traits.email) FILTER "
            "(WHERE traits.email IS NOT NULL) FROM read_json("
            f"'{path}', format='newline_delimited', columns={columns}) "
            "WHERE context.device.id IS NOT NULL GROUP BY 1 ORDER BY 1"
        ).fetchall()
    except duckdb.Error as exc:
        raise HopsimError(
            f"{trace}: not a JSON-lines trace DuckDB can read: {first_line(exc)}"
        ) from exc
    finally:
        con.close()
    return [(str(device), [str(e) for e in emails or ()]) for device, emails in rows]


@dataclass(frozen=True)
class Columns:
    """Which source columns hold the identifier type, the identifier and the profile id."""

    type: str | None = None
    identifier: str | None = None
    profile: str | None = None


@dataclass
class Claims:
    """(profile, identifier type, identifier) triples, however the source said them."""

    shape: str
    triples: list[tuple[str, str, str]] = field(default_factory=list)


def claims(table: Table, columns: Columns) -> Claims:
    """Read a source as claims: identifier rows, an edge list, or hopsim profiles (None)."""
    present = set(table.columns)
    given = (columns.type, columns.identifier, columns.profile)
    if any(given):
        missing = [c for c in given if c and c not in present]
        if missing or not all(given):
            raise HopsimError(
                f"{table.name}: columns {', '.join(repr(c) for c in missing) or '(not all given)'} "
                f"not found; --type-column, --id-column and --profile-column must all name "
                f"columns of {', '.join(table.columns)}"
            )
        return _rows(table, (str(columns.type), str(columns.identifier), str(columns.profile)))
    for shape in ROW_SHAPES:
        if set(shape) <= present:
            return _rows(table, shape)
    if set(EDGE_SHAPE) <= present:
        return _edges(table)
    shapes = "; ".join(f"({', '.join(s)})" for s in (*ROW_SHAPES, EDGE_SHAPE))
    raise HopsimError(
        f"{table.name}: missing columns: found ({', '.join(table.columns)}), expected one of "
        f"{shapes}, hopsim's profiles.jsonl (profile_id, device_ids), or name the columns "
        "with --type-column, --id-column and --profile-column"
    )


def is_profiles_file(table: Table) -> bool:
    return {"profile_id", "device_ids"} <= set(table.columns)


def _type(raw: Any, where: str, column: str) -> str:
    kind = CANONICAL.get(snake(str(raw or "")))
    if kind is None:
        raise HopsimError(
            f"{where}: column {column!r}: unknown identifier type {raw!r}; expected one of "
            f"{', '.join(IDENTIFIER_TYPES)} (or their snake_case forms)"
        )
    return kind


def _value(row: Mapping[str, Any], column: str, where: str, what: str) -> str:
    value = row.get(column)
    if value is None or isinstance(value, list | dict) or not str(value).strip():
        raise HopsimError(f"{where}: column {column!r}: {what} is empty; expected text")
    return str(value).strip()


def _rows(table: Table, shape: tuple[str, str, str]) -> Claims:
    type_col, id_col, profile_col = shape
    out = Claims("identifier rows (" + ", ".join(shape) + ")")
    for where, row in table.numbered():
        kind = _type(row.get(type_col), where, type_col)
        value = _value(row, id_col, where, "the identifier")
        profile = _value(row, profile_col, where, "the profile id")
        out.triples.append((profile, kind, value))
    return out


def _edges(table: Table) -> Claims:
    """Connected components of the edge list become the profiles (named by a member)."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(node: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for where, row in table.numbered():
        a = (_type(row.get("id1_type"), where, "id1_type"), _value(row, "id1", where, "id1"))
        b = (_type(row.get("id2_type"), where, "id2_type"), _value(row, "id2", where, "id2"))
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    out = Claims("edge list (id1, id1_type, id2, id2_type)")
    for node in sorted(parent):
        root = find(node)
        out.triples.append((f"{root[0]}:{root[1]}", node[0], node[1]))
    return out


@dataclass
class Coverage:
    """What the source said that the run could not use, and what it left unsaid."""

    identifiers: int = 0
    profiles: int = 0
    unknown: Counter[str] = field(default_factory=Counter)
    contested: int = 0
    unmentioned: int = 0

    def as_json(self, directory: Directory) -> dict[str, Any]:
        return {
            "identifiers": self.identifiers,
            "profiles": self.profiles,
            "unknown_identifiers": sum(self.unknown.values()),
            "unknown_identifiers_by_type": dict(sorted(self.unknown.items())),
            "devices_in_trace": len(directory.seen),
            "devices_contested": self.contested,
            "devices_unmentioned": self.unmentioned,
        }


def profiles_from_claims(found: Claims, where: Directory) -> tuple[list[dict[str, Any]], Coverage]:
    """One person profile per external profile id, each device placed once (see module doc)."""
    cover = Coverage(identifiers=len(found.triples))
    votes: dict[str, dict[str, list[int]]] = defaultdict(dict)  # device -> profile -> [dev, person]
    profiles: set[str] = set()
    for profile, kind, value in found.triples:
        profiles.add(profile)
        devices = where.lookup(kind, value)
        if not devices:
            cover.unknown[kind] += 1
        level = 0 if kind in DEVICE_LEVEL else 1
        for device in devices:
            votes[device].setdefault(profile, [0, 0])[level] += 1
    members: dict[str, list[str]] = defaultdict(list)
    for device, counted in sorted(votes.items()):
        best = min(counted, key=lambda p: (-counted[p][0], -counted[p][1], p))
        cover.contested += len(counted) > 1
        members[best].append(device)
    cover.profiles = len(profiles)
    rows = [_person(p, devices) for p, devices in sorted(members.items())]
    return rows, cover


def _person(profile: str, devices: Iterable[str]) -> dict[str, Any]:
    return {"profile_id": profile, "kind": "person", "device_ids": list(devices)}


def with_unmentioned(
    rows: list[dict[str, Any]], where: Directory, cover: Coverage
) -> list[dict[str, Any]]:
    """Devices the trace shows but no profile names, each scored as a profile of its own."""
    named = {str(d) for row in rows for d in row.get("device_ids") or ()}
    alone = sorted(where.seen - named)
    cover.unmentioned = len(alone)
    return [*rows, *(_person(f"unmentioned:{d}", [d]) for d in alone)]


def hopsim_profiles(table: Table, where: Directory) -> tuple[list[dict[str, Any]], Coverage]:
    """hopsim's ``profiles.jsonl`` rows as they are; unknown devices counted as deviceIds."""
    cover = Coverage(profiles=len(table.rows))
    for place, row in table.numbered():
        devices = row.get("device_ids")
        if not isinstance(devices, list):
            raise HopsimError(f"{place}: column 'device_ids': expected a list of device ids")
        _value(row, "profile_id", place, "the profile id")
        cover.identifiers += len(devices)
        cover.unknown["deviceId"] += sum(1 for d in devices if not where.lookup("deviceId", str(d)))
    cover.unknown = +cover.unknown
    return list(table.rows), cover


def score_source(run_dir: Path, table: Table, columns: Columns) -> dict[str, Any]:
    """``score.json``: the source's ``stitching`` block and its ``coverage``."""
    where = directory(run_dir)
    if is_profiles_file(table) and not any((columns.type, columns.identifier, columns.profile)):
        shape = "hopsim profiles.jsonl"
        rows, cover = hopsim_profiles(table, where)
    else:
        found = claims(table, columns)
        shape = found.shape
        rows, cover = profiles_from_claims(found, where)
    rows = with_unmentioned(rows, where, cover)
    return {
        "source": table.name,
        "shape": shape,
        "stitching": score(rows, where.truth_rows),
        "coverage": cover.as_json(where),
    }
