"""A paced broadcast's wave, traded between the shards of one run through the run folder.

A rate-limited broadcast (a journey with ``rate_limit = { per_minute = N }``,
:mod:`sim.engine.messaging.walker`) lets its audience in N people a minute in
one hash order over the *whole* audience. With the households dealt to
several shards, each shard holds part of the audience; at the broadcast's
moment every shard writes its part (``<journey>-<shard>.json``) and waits
until every other shard has written its own, then reads them all: a barrier
at that one moment, so each shard knows where its people stand in the whole
wave and ``--workers 1`` and ``--workers 2`` admit everyone at the same minute.

Every shard reaches the moment within the same slice of simulated time (the
runner steps them together), so the wait is short; a shard that never comes
(it failed) ends the wait after ``TIMEOUT`` seconds with an error naming it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from sim.errors import HopsimError

TIMEOUT = 600.0  # seconds to wait for the other shards' parts
POLL = 0.005

Wave = list[tuple[float, str]]


class FilePool:
    """Trades waves between ``count`` shards through ``folder`` (shared by all of them)."""

    def __init__(self, folder: Path, index: int, count: int) -> None:
        self.folder, self.index, self.count = folder, index, count
        folder.mkdir(parents=True, exist_ok=True)
        self.rounds: dict[str, int] = {}

    def __call__(self, name: str, wave: Wave) -> Wave:
        """Every shard's part of the wave ``name``, merged in order."""
        turn = self.rounds.get(name, 0)
        self.rounds[name] = turn + 1
        stem = f"{name.replace('/', '_')}-{turn}"
        mine = self.folder / f"{stem}-{self.index}.json"
        partial = mine.with_suffix(".tmp")
        partial.write_text(json.dumps(wave))
        os.replace(partial, mine)  # the others see all of it or none of it
        parts = [self.folder / f"{stem}-{k}.json" for k in range(self.count)]
        deadline = time.monotonic() + TIMEOUT
        while not all(p.exists() for p in parts):
            if time.monotonic() > deadline:
                missing = [k for k, p in enumerate(parts) if not p.exists()]
                raise HopsimError(f"broadcast {name}: shards {missing} never reached its moment")
            time.sleep(POLL)
        merged = [
            (float(place), str(pid)) for p in parts for place, pid in json.loads(p.read_text())
        ]
        return sorted(merged)
