"""Reading a run folder's files: JSON, JSON lines (plain or gzip) and CSV.

JSON lines are read by the one trace reader, :mod:`sim.trace.reader`; this
module only adds what the report needs on top.

Every reader returns ``None`` when the file is missing (that section of the
report is skipped) and raises :class:`ReportInputError` naming the file and
line when the file is there but malformed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from sim.errors import HopsimError
from sim.trace.reader import JsonObject as JsonObject
from sim.trace.reader import TraceReadError, iter_numbered


class ReportInputError(HopsimError):
    """A run-folder file the report reads is malformed."""


def read_json(path: Path) -> JsonObject | None:
    """One JSON object, or ``None`` when the file does not exist."""
    if not path.is_file():
        return None
    try:
        value = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ReportInputError(f"{path}: invalid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ReportInputError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


def iter_jsonl(path: Path) -> Iterator[tuple[int, JsonObject]]:
    """``(line number, object)`` of a JSON-lines file through :mod:`sim.trace.reader`.

    The trace reader's errors come out as :class:`ReportInputError`, with the same text.
    """
    try:
        yield from iter_numbered(path)
    except TraceReadError as exc:
        raise ReportInputError(str(exc)) from exc


def read_jsonl_numbered(path: Path) -> list[tuple[int, JsonObject]] | None:
    """``(line number, object)`` pairs of a JSON-lines file, or ``None`` when missing."""
    if not path.is_file():
        return None
    return list(iter_jsonl(path))


def read_jsonl(path: Path) -> list[JsonObject] | None:
    """All objects of a JSON-lines file, or ``None`` when it does not exist."""
    if not path.is_file():
        return None
    return [record for _, record in iter_jsonl(path)]


def read_csv_numbers(path: Path, columns: tuple[str, ...]) -> dict[str, list[float]] | None:
    """The named numeric columns of a CSV file with a header row."""
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in columns if name not in (reader.fieldnames or [])]
        if missing:
            raise ReportInputError(f"{path}: missing column(s) {', '.join(missing)}")
        out: dict[str, list[float]] = {name: [] for name in columns}
        for number, row in enumerate(reader, start=2):
            for name in columns:
                out[name].append(_number(path, number, name, row[name]))
    return out


def _number(path: Path, line: int, column: str, text: str | None) -> float:
    if text is None or text.strip() == "":
        return float("nan")
    try:
        return float(text)
    except ValueError as exc:
        raise ReportInputError(
            f"{path}: line {line}: column {column}: expected a number, got {text!r}"
        ) from exc


def field(path: Path, line: int, record: JsonObject, key: str, kind: type) -> Any:
    """``record[key]`` checked to be of ``kind``; the error names file, line and key."""
    value = record.get(key)
    if not isinstance(value, kind):
        where = f"line {line}: " if line else ""
        raise ReportInputError(
            f"{path}: {where}key {key!r}: expected {kind.__name__}, got {value!r:.60}"
        )
    return value
