"""Writing traces: gzip JSON lines, one Segment event per line, in time order.

The world emits in simulation-time order, so the writer only appends. Lines
are serialised with orjson (sorted keys) so the same seed gives the same
bytes; the gzip header carries no file name or time stamp for the same reason.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from sim.errors import HopsimError

DUMP_OPTIONS = orjson.OPT_SORT_KEYS


def dumps(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record, option=DUMP_OPTIONS)


class JsonlGzWriter:
    """Append records to a reproducible ``.jsonl.gz`` file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._raw = path.open("wb")
        self._gzip = gzip.GzipFile(
            filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=5
        )
        self._buffer = io.BufferedWriter(self._gzip, buffer_size=1 << 20)  # type: ignore[arg-type]
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        self._buffer.write(dumps(record))
        self._buffer.write(b"\n")
        self.count += 1

    def close(self) -> None:
        self._buffer.flush()
        self._gzip.close()
        self._raw.close()

    def __enter__(self) -> JsonlGzWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_jsonl_gz(path: Path, records: Iterable[dict[str, Any]]) -> int:
    with JsonlGzWriter(path) as writer:
        for record in records:
            writer.write(record)
        return writer.count


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("wb") as handle:
        for record in records:
            handle.write(dumps(record) + b"\n")
            count += 1
    return count


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Read ``.jsonl`` or ``.jsonl.gz``; a bad line names the file and line number."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise HopsimError(f"{path}:{number}: not valid JSON: {exc}") from exc
            if not isinstance(record, dict):
                raise HopsimError(f"{path}:{number}: expected a JSON object")
            yield record
