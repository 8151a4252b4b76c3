"""The trace sink: listens to the world and writes ``trace.jsonl.gz``.

Events arrive in simulation order. Within one millisecond two people may act
at once; the sink orders such ties by ``messageId`` so the bytes depend only
on what happened, never on which process SimPy happened to wake first (that
is what lets several worker processes produce the very same trace). Whatever
listens to ``flushed`` (the engine) sees the events in exactly that order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.trace.events import SegmentEvent
from sim.trace.writer import JsonlGzWriter


def order_key(event: SegmentEvent) -> tuple[str, str]:
    """The one total order of a trace: timestamp, then messageId."""
    return event["timestamp"], event["messageId"]


class TraceSink:
    def __init__(self, path: Path) -> None:
        self.writer = JsonlGzWriter(path)
        self._stamp = ""
        self._pending: list[SegmentEvent] = []

    def on_event(self, event: SegmentEvent, **_: Any) -> None:
        if event["timestamp"] != self._stamp:
            self.flush()
            self._stamp = event["timestamp"]
        self._pending.append(event)

    def flush(self) -> None:
        if len(self._pending) > 1:
            self._pending.sort(key=order_key)
        for event in self._pending:
            self.writer.write(event)
        self._pending.clear()

    def close(self) -> int:
        self.flush()
        self.writer.close()
        return self.writer.count
