"""What a scenario declares for the journey metrics: channel costs and the churn window.

A strategist's CPC and CPM need what a message costs; the simulation cannot
know it, so the scenario says it, with its provenance, like every number in a
data file::

    [channels.email]
    cost_per_message = 0.0001
    currency = "USD"
    source = "Amazon SES pricing: $0.10 per 1,000 emails"

    [metrics]
    churn_days = 30
    remark = "assumed: ..."

No ``[channels.*]`` table means no cost figures at all (never a made-up zero).
Every problem is named with the scenario file and key (:class:`sim.world.schema.Reader`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.world.scenario import Scenario
from sim.world.schema import Reader

CHURN_DAYS = 30
CHURN_SOURCE = (
    "Countly, Slipping Away Users (api.count.ly/api/slipping-away-users): "
    "30 days without activity is one of its standard inactivity periods"
)
CHANNEL_KEYS = ("cost_per_message", "currency", "source", "remark")
METRICS_KEYS = ("churn_days", "source", "remark")


@dataclass(frozen=True)
class ChannelCost:
    """What one delivered message of a channel costs, and who says so."""

    channel: str
    cost_per_message: float
    currency: str
    source: str


@dataclass(frozen=True)
class MetricsConfig:
    """The scenario's inputs to the journey metrics."""

    churn_days: int = CHURN_DAYS
    churn_source: str = CHURN_SOURCE
    costs: dict[str, ChannelCost] = field(default_factory=dict)


def metrics_config(scenario: Scenario) -> MetricsConfig:
    """Read ``[channels.*]`` and ``[metrics]`` of a scenario; errors name the file and key."""
    return parse_metrics_config(scenario.raw, str(scenario.path))


def parse_metrics_config(data: Mapping[str, Any], path: str) -> MetricsConfig:
    reader = Reader(path)
    costs = _costs(reader, data.get("channels", {}))
    metrics = reader.table(data, "metrics", "", required=False)
    reader.known(metrics, METRICS_KEYS, "metrics.")
    churn_days = reader.integer(metrics, "churn_days", "metrics.", 1, 3650, CHURN_DAYS)
    churn_source = _provenance(metrics) if "churn_days" in metrics else CHURN_SOURCE
    reader.raise_if_any()
    return MetricsConfig(churn_days, churn_source, costs)


def _costs(reader: Reader, raw: Any) -> dict[str, ChannelCost]:
    if not isinstance(raw, dict):
        reader.fail("channels", "tables [channels.<name>] with cost_per_message", raw)
        return {}
    costs: dict[str, ChannelCost] = {}
    for name, table in sorted(raw.items()):
        where = f"channels.{name}."
        if not isinstance(table, dict):
            reader.fail(f"channels.{name}", "a table with cost_per_message and a source", table)
            continue
        reader.known(table, CHANNEL_KEYS, where)
        cost = reader.number(table, "cost_per_message", where, 0.0, 1_000.0)
        currency = str(table.get("currency", "USD"))
        source = _provenance(table)
        if not source:
            reader.fail(f"channels.{name}", "a 'source' or 'remark' for its cost")
        costs[name] = ChannelCost(name, cost, currency, source)
    return costs


def _provenance(table: Mapping[str, Any]) -> str:
    return str(table.get("source") or table.get("remark") or "")
