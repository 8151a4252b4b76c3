"""Reading traces and run tables: JSON lines, plain or gzip, one object a line.

The one reader beside :mod:`sim.trace.writer`. Every caller (the runner's
merge, the report, ``hopsim compare``, the load test's replay) reads through
it, so a bad file always fails the same way: the error names the file and,
for a bad line, its number and what was expected.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from io import BufferedReader
from pathlib import Path
from typing import Any

import orjson

from sim.errors import HopsimError

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
