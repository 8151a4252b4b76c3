"""Reading traces and run tables: JSON lines, plain or gzip, one object a line.

The one reader beside :mod:`sim.trace.writer`. Every caller (the runner's
merge, the report, ``hopsim compare``, the load test's replay) reads through
it, so a bad file always fails the same way: the error names the file and,
for a bad line, its number and what was expected. A trace read back for
replay or scoring comes through :func:`read_events`, which checks each line's
shape once (a Segment call type and a timestamp), so a table handed in as a
trace fails at its first line rather than as a wrong figure.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from io import BufferedReader
from pathlib import Path
from typing import Any, cast

import orjson

from sim.errors import HopsimError
from sim.trace.events import EVENT_TYPES, SegmentEvent

JsonObject = dict[str, Any]


class TraceReadError(HopsimError):
    """A JSON-lines file cannot be read, or one of its lines is not a JSON object."""


def _open(path: Path) -> gzip.GzipFile | BufferedReader:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return path.open("rb")


def iter_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` of every non-blank line, as raw bytes (newline kept)."""
    try:
        with _open(path) as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line
    except (OSError, EOFError, zlib.error) as exc:
        raise TraceReadError(f"{path}: cannot read: {exc}") from exc


def parse_line(path: Path, number: int, line: bytes) -> JsonObject:
    """One line as a JSON object; the error names the file and line."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise TraceReadError(f"{path}: line {number}: invalid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise TraceReadError(f"{path}: line {number}: expected a JSON object")
    return value


def iter_numbered(path: Path) -> Iterator[tuple[int, JsonObject]]:
    """``(line number, object)`` of a JSON-lines file, blank lines skipped."""
    for number, line in iter_lines(path):
        yield number, parse_line(path, number, line)


def read_jsonl(path: Path) -> Iterator[JsonObject]:
    """Every object of a ``.jsonl`` or ``.jsonl.gz`` file, in file order."""
    for _, record in iter_numbered(path):
        yield record


def read_optional_jsonl(path: Path) -> Iterator[JsonObject]:
    """:func:`read_jsonl`, or nothing when there is no such file: a run table that a run
    without messaging or journeys never writes (``messages.jsonl``, ``profiles.jsonl``)."""
    if path.is_file():
        yield from read_jsonl(path)


_TYPES = frozenset(EVENT_TYPES)
_TYPE_EXPECTED = "a Segment event: 'type' one of " + ", ".join(EVENT_TYPES)


def check_event(path: Path, number: int, value: JsonObject) -> SegmentEvent:
    """``value`` as a Segment event, after a cheap structural check naming file and line."""
    kind = value.get("type")
    if type(kind) is not str or kind not in _TYPES:
        raise TraceReadError(f"{path}: line {number}: expected {_TYPE_EXPECTED}, got {kind!r}")
    if type(value.get("timestamp")) is not str:
        raise TraceReadError(f"{path}: line {number}: expected a 'timestamp' string")
    return cast(SegmentEvent, value)


def read_events(path: Path) -> Iterator[SegmentEvent]:
    """Every event of a trace file (``.jsonl`` or ``.jsonl.gz``), each shape-checked once."""
    for number, line in iter_lines(path):
        yield check_event(path, number, parse_line(path, number, line))
