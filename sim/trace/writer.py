"""Writing traces: gzip JSON lines, one Segment event per line, in time order.

The world emits in simulation-time order, so the writer only appends. Lines
are serialised with orjson (sorted keys) so the same seed gives the same
bytes; the gzip header carries no file name or time stamp for the same reason.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
from isal import igzip

from sim.trace.events import EventContext

DUMP_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
LINE_OPTIONS = DUMP_OPTIONS | orjson.OPT_APPEND_NEWLINE


def _plain(value: Any) -> Any:
    """A sealed context's ready-made JSON; any other subclass of a builtin as its base."""
    if isinstance(value, EventContext):
        return value.fragment
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record, default=_plain, option=DUMP_OPTIONS)


def dump_line(record: Mapping[str, Any]) -> bytes:
    """``dumps`` with the newline a JSON-lines file needs, in one call."""
    return orjson.dumps(record, default=_plain, option=LINE_OPTIONS)


BLOCK_BYTES = 1 << 20
GZIP_LEVEL = 2
IN_FLIGHT = 4


def gzip_member(data: bytes) -> bytes:
    """One self-contained gzip member; concatenated members are one valid gzip file.

    ISA-L's level 2 compresses a trace about ten times faster than zlib's
    level 5 (1.5 GB/s against 160 MB/s here) for a file about 17% larger.
    """
    return igzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


class JsonlGzWriter:
    """Append records to a reproducible ``.jsonl.gz`` file.

    Lines are gathered into 1 MiB blocks and each block is compressed as its
    own gzip member on ``threads`` helper threads, the way pigz does. Block
    boundaries depend only on the bytes written, whatever the batches, and
    blocks are written in order, so the file is the same every time.
    """

    def __init__(self, path: Path, threads: int = 1) -> None:
        self.path = path
        self._raw = path.open("wb")
        self._block = bytearray()  # lines are copied in: orjson's results keep 4 KB buffers
        self._threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="gzip")
        self._pending: deque[Future[bytes]] = deque()
        self.count = 0

    def write(self, record: Mapping[str, Any]) -> None:
        self.write_line(dump_line(record))

    def write_many(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Encode and append a batch (one call per simulated minute, not per event)."""
        self.write_lines([dump_line(record) for record in records])

    def write_lines(self, lines: list[bytes]) -> None:
        """Append already-encoded lines; a block is cut as soon as it holds 1 MiB."""
        block = self._block
        for line in lines:
            block += line
            if len(block) >= BLOCK_BYTES:
                self._submit()
        self.count += len(lines)

    def write_line(self, line: bytes) -> None:
        """Append one already-encoded line (ending in a newline)."""
        self.write_lines([line])

    def _submit(self) -> None:
        if not self._block:
            return
        block = bytes(self._block)
        self._block.clear()
        self._pending.append(self._pool.submit(gzip_member, block))
        while len(self._pending) > IN_FLIGHT * self._threads:
            self._raw.write(self._pending.popleft().result())

    def close(self) -> None:
        self._submit()
        while self._pending:
            self._raw.write(self._pending.popleft().result())
        if self._raw.tell() == 0:
            self._raw.write(gzip_member(b""))
        self._pool.shutdown()
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
            handle.write(dump_line(record))
            count += 1
    return count
