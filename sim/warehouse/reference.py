"""One message -> its warehouse rows, in plain Python: the definition the fast path must match.

A ``track`` lands twice, as the ``tracks`` row (standard columns only) and as
a row of its event's own table (standard columns plus its properties); every
other call lands once, in its call type's table. Columns:

- standard: ``id`` (the messageId), ``anonymous_id``, ``user_id``,
  ``timestamp``, ``original_timestamp``, ``sent_at``, ``received_at`` (UTC,
  without zone; a trace that carries no ``sentAt``/``receivedAt``/
  ``originalTimestamp`` gets ``timestamp`` there: hopsim's collector receives
  at once) and ``uuid_ts`` (when the load ran: one load after the last message);
- ``context_*``: the context flattened, ``context.device.id`` -> ``context_device_id``;
- per call: ``event`` (snake_case slug) and ``event_text`` on tracks,
  ``name`` on pages and screens, ``group_id`` on groups, ``previous_id`` on aliases;
- payload: properties (tracks' event tables, pages, screens) or traits
  (identifies, groups) flattened to top-level columns, nested objects joined
  by ``_``, arrays kept as JSON text, nulls left out, and any that collides
  with a column above discarded.

``sim.warehouse.export`` builds the same tables in DuckDB SQL; its
equivalence test holds it to these rows. Column types are the loader's
business (a key seen with several JSON types becomes a text column there).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import orjson

from sim.trace.clock import parse_iso
from sim.warehouse.naming import (
    EXTRA_COLUMNS,
    STANDARD_COLUMNS,
    TABLE_OF_TYPE,
    column,
    event_table,
    snake,
)

Row = dict[str, Any]

# The call's own top-level field behind each extra column.
CALL_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "pages": (("name", "name"),),
    "screens": (("name", "name"),),
    "groups": (("group_id", "groupId"),),
    "aliases": (("previous_id", "previousId"),),
}


def utc(text: Any) -> datetime | None:
    """An ISO-8601 stamp as a zone-less UTC datetime, the warehouses' ``timestamp`` type."""
    return parse_iso(str(text)).replace(tzinfo=None) if text is not None else None


def flatten(value: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Leaves of a nested object as (column, value); arrays as JSON text; nulls skipped."""
    for key, item in value.items():
        path = (*prefix, str(key))
        if isinstance(item, Mapping):
            yield from flatten(item, path)
        elif isinstance(item, list):
            yield column(path), orjson.dumps(item).decode()
        elif item is not None:
            yield column(path), item


def standard(message: Mapping[str, Any], uuid_ts: datetime) -> Row:
    stamp = utc(message.get("timestamp"))
    row: Row = {
        "id": message.get("messageId"),
        "anonymous_id": message.get("anonymousId"),
        "user_id": message.get("userId"),
        "timestamp": stamp,
        "original_timestamp": utc(message.get("originalTimestamp")) or stamp,
        "sent_at": utc(message.get("sentAt")) or stamp,
        "received_at": utc(message.get("receivedAt")) or stamp,
        "uuid_ts": uuid_ts,
    }
    context = message.get("context")
    if isinstance(context, Mapping):
        for name, value in sorted(flatten(context, ("context",)), key=lambda cell: cell[0]):
            row.setdefault(name, value)
    return row


def _payload(row: Row, payload: Any, reserved: frozenset[str]) -> Row:
    """Add a payload's leaves as columns; one named like a standard or context column is dropped."""
    if isinstance(payload, Mapping):
        for name, value in flatten(payload):
            if name and name not in reserved and not name.startswith("context_"):
                row.setdefault(name, value)
    return row


def reserved_columns(table: str) -> frozenset[str]:
    """The columns a payload may not take in a call type's table (event tables: ``tracks``')."""
    return frozenset({*STANDARD_COLUMNS, *EXTRA_COLUMNS[table]})


def warehouse_rows(message: Mapping[str, Any], uuid_ts: datetime) -> list[tuple[str, Row]]:
    """The (table, row) pairs one message becomes; none for an unknown call type."""
    kind = str(message.get("type"))
    table = TABLE_OF_TYPE.get(kind)
    if table is None:
        return []
    row = standard(message, uuid_ts)
    if kind == "track":
        event = str(message.get("event") or "")
        row |= {"event": snake(event), "event_text": event}
        if not snake(event):
            return [("tracks", row)]
        own = _payload(dict(row), message.get("properties"), reserved_columns("tracks"))
        return [("tracks", row), (event_table(event), own)]
    row |= {name: message.get(key) for name, key in CALL_FIELDS.get(table, ())}
    payload = message.get("traits" if table in ("identifies", "groups") else "properties")
    return [(table, _payload(row, payload, reserved_columns(table)))]


def users(identifies: list[Row]) -> list[Row]:
    """The ``users`` table: one row per ``user_id``, each trait at its latest non-null value.

    Segment upserts identify calls on ``user_id`` ("the latest state of a
    user", ``id`` = the identifies table's ``user_id``, no ``anonymous_id``).
    """
    out: dict[str, Row] = {}
    for row in sorted(identifies, key=lambda r: (r["received_at"], r["id"])):
        user = row.get("user_id")
        if user is None:
            continue
        state = out.setdefault(str(user), {"id": user})
        state["received_at"] = row["received_at"]
        state["uuid_ts"] = row["uuid_ts"]
        for name, value in row.items():
            if name in TRAIT_EXCLUDED or name.startswith("context_") or value is None:
                continue
            state[name] = value
    return list(out.values())


TRAIT_EXCLUDED = frozenset(STANDARD_COLUMNS)
