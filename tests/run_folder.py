"""A run folder's outputs as bytes, for the tests that check two ways of running write the same.

One list of the files a run writes and one way to read them, so the
same-bytes tests (batches, cluster) compare the same things.
"""

from __future__ import annotations

import json
from pathlib import Path

OUTPUTS = (
    "trace.jsonl.gz",
    "truth.jsonl.gz",
    "contexts.jsonl.gz",
    "people.jsonl",
    "journeys.jsonl",
    "profiles.jsonl",
    "messages.jsonl",
)
TIMING = ("wall_seconds", "events_per_second", "workers")  # how it ran, not what it made


def folder_bytes(out: Path) -> dict[str, bytes]:
    """Every output present in ``out``, plus summary.json without its timing fields."""
    files = {name: (out / name).read_bytes() for name in OUTPUTS if (out / name).exists()}
    summary = json.loads((out / "summary.json").read_text())
    for timing in TIMING:
        summary.pop(timing)
    files["summary.json"] = json.dumps(summary, sort_keys=True).encode()
    return files
