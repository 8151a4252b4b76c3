"""``GET /metrics``: the server's counters in Prometheus text exposition (format 0.0.4).

The counters are the very numbers ``/v1/stats`` answers with, plus requests
by route and status; each metric is written with its ``# HELP`` and ``# TYPE``
lines so a scraper needs no configuration beyond the URL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"

# (metric, kind, help, the /v1/stats key it reads)
GAUGES_AND_COUNTERS = (
    ("hopsim_events_accepted_total", "counter", "Events stored (since the log began).",
     "events_accepted"),
    ("hopsim_events_duplicate_total", "counter", "Events dropped as duplicate messageId.",
     "events_duplicate"),
    ("hopsim_events_rejected_total", "counter", "Events in refused requests.", "events_rejected"),
    ("hopsim_profiles", "gauge", "Stitched profiles.", "profiles"),
    ("hopsim_events_applied_total", "counter", "Events the engine has read from the log.",
     "events_applied"),
    ("hopsim_engine_lag_bytes", "gauge", "Durable log bytes the engine has not read yet.",
     "engine_lag_bytes"),
    ("hopsim_inflight_requests", "gauge", "Ingest requests inside the server.", "inflight"),
    ("hopsim_store_commits_total", "counter", "Group commits (one fsync each).", "store_commits"),
    ("hopsim_store_commit_seconds_total", "counter",
     "Group commit time, from write to acknowledgement.", "store_commit_seconds"),
    ("hopsim_store_fsync_seconds_total", "counter", "Time inside fsync itself.",
     "store_fsync_seconds"),
    ("hopsim_store_fsync_max_seconds", "gauge", "Slowest single fsync so far.",
     "store_fsync_max_seconds"),
)  # fmt: skip


def label(value: str) -> str:
    """A label value escaped as the exposition format asks (backslash, quote, newline)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def exposition(stats: Mapping[str, object], requests: Counter[tuple[str, int]]) -> str:
    """The text a Prometheus scrape of ``/metrics`` reads."""
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    for name, kind, help_text, key in GAUGES_AND_COUNTERS:
        value = stats[key]
        if not isinstance(value, int | float):
            raise TypeError(f"/v1/stats {key!r} is {value!r}, not a number")
        metric(name, kind, help_text, [("", float(value))])
    samples = [
        (f'{{route="{label(route)}",status="{status}"}}', float(count))
        for (route, status), count in sorted(requests.items())
    ]
    metric("hopsim_http_requests_total", "counter", "HTTP requests by route and status.", samples)
    return "\n".join(lines) + "\n"
