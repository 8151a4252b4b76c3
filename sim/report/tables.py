"""A run folder's files as small plain tables; every file is optional.

:func:`collect` reads whatever the folder holds; a table is ``None`` (or
empty) when its file is missing, and a malformed file raises
:class:`~sim.report.readers.ReportInputError` naming the file and line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sim.report.behaviour as behaviour
import sim.report.daylife as daylife
import sim.report.experiments as experiments
import sim.report.loadtest as loadtest
from sim.report.persons import (
    PersonInfo,
    from_personas,
    read_contexts,
    read_people,
    spans_from_changes,
    with_sole_users,
)
from sim.report.readers import (
    JsonObject,
    ReportInputError,
    read_json,
    read_jsonl,
    read_jsonl_numbered,
)
from sim.report.sessions import TraceTables, personas, read_trace, read_truth
from sim.trace.truth import TruthDevice

FUNNEL_STAGES = ("awareness", "consideration", "purchase", "retention", "advocacy")
NONE_CHOSEN = "(none chosen)"
STITCH_METRICS = ("pairwise_precision", "pairwise_recall", "f05", "bcubed_f1")
PERSON_LABEL = "person level"
HOUSEHOLD_LABEL = "household level"
PERSON_EXTRAS = ("f05", "bcubed_f1", "fused_profiles", "person_profiles", "fused_share")


@dataclass(frozen=True)
class Threshold:
    name: str
    value: Any
    target: Any
    ok: bool
    source: str


@dataclass(frozen=True)
class StitchingTable:
    """``rows``: (level or rule set, {metric: value}), the headline score first;
    ``definitions``: what each level counts as right (from summary.json)."""

    rows: list[tuple[str, dict[str, float]]]
    over_merges: int
    under_merges: int
    extras: dict[str, Any]
    definitions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MessageTable:
    """Decisions counted per (channel, outcome) and (device type, outcome)."""

    by_channel: dict[str, Counter[str]]
    by_device: dict[str, Counter[str]]
    outcomes: list[str]
    total: int


@dataclass(frozen=True)
class ProfileSizes:
    """How many devices per stitched profile, and per true person."""

    profile_devices: Counter[int]
    person_devices: Counter[int]
    households: int


@dataclass
class Tables:
    run_dir: Path
    summary: JsonObject | None = None
    devices: dict[str, TruthDevice] | None = None
    trace: TraceTables | None = None
    profiles: ProfileSizes | None = None
    messages: MessageTable | None = None
    compare: JsonObject | None = None
    load: loadtest.LoadSummary | None = None
    load_series: loadtest.LoadSeries | None = None
    days: list[daylife.DayInLife] = field(default_factory=list)
    switches: behaviour.SwitchMatrix | None = None
    switch_days: list[behaviour.DayShare] = field(default_factory=list)
    realism: list[JsonObject] = field(default_factory=list)
    journeys: list[behaviour.PathShare] = field(default_factory=list)
    journeys_source: str = ""
    channels: list[behaviour.ChannelCredit] = field(default_factory=list)
    variants: list[experiments.VariantResult] = field(default_factory=list)


def collect(run_dir: Path) -> Tables:
    """Read every file the report knows from ``run_dir``."""
    tables = Tables(run_dir)
    tables.summary = read_json(run_dir / "summary.json")
    tables.compare = read_json(run_dir / "compare.json")
    tables.devices = read_truth(run_dir / "truth.jsonl.gz")
    tables.messages = message_table(read_jsonl_numbered(run_dir / "messages.jsonl"), run_dir)
    tables.profiles = profile_sizes(read_jsonl(run_dir / "profiles.jsonl"), tables.devices)
    tables.load = loadtest.read_summary(run_dir / "loadtest.json")
    tables.load_series = loadtest.read_series(run_dir)
    tables.variants = experiments.variants(tables.compare, tables.summary)
    tables.journeys = world_journeys(read_jsonl(run_dir / "journeys.jsonl"), tables.summary)
    tables.switch_days = switch_days(tables.summary)
    tables.realism = realism_rows(tables.summary)
    if not tables.journeys and tables.compare:
        tables.journeys = top_paths(tables.compare.get("journeys"), 0)
    tables.journeys_source = "journeys.jsonl" if tables.journeys else ""
    if tables.devices is not None:
        people = read_people(run_dir / "people.jsonl")
        used = with_sole_users(tables.devices, people)
        tables.trace = read_trace(run_dir / "trace.jsonl.gz", used)
        if tables.trace is not None:
            _behaviour(tables, tables.trace, used, people or from_personas(personas(used)))
    return tables


def _behaviour(
    tables: Tables,
    trace: TraceTables,
    devices: dict[str, TruthDevice],
    people: dict[str, PersonInfo],
) -> None:
    sessions = trace.sessions
    run_dir = tables.run_dir
    histories = behaviour.by_person(sessions)
    chosen = daylife.choose(histories, people)
    contexts = read_contexts(run_dir / "contexts.jsonl.gz", {p for _, p in chosen})
    if contexts is None:
        contexts = spans_from_changes(trace.context_changes, trace.last_at or 0.0)
    tables.days = daylife.days_in_life(histories, chosen, contexts, people)
    tables.switches = behaviour.switch_matrix(sessions)
    if not tables.journeys:
        tables.journeys = behaviour.journeys_to_purchase(sessions)
        tables.journeys_source = "trace.jsonl.gz"
    tables.channels = behaviour.attribution(sessions)


def switch_days(summary: JsonObject | None) -> list[behaviour.DayShare]:
    """The run's switch rate per local day (summary ``realism.switch_by_day``), dated.

    Counted by the run (``sim.analysis.realism.switch_rate``) over every pick-up
    of a person's own devices: the one definition ``summary.json`` reports.
    """
    realism = (summary or {}).get("realism")
    rows = realism.get("switch_by_day") if isinstance(realism, dict) else None
    start = str((summary or {}).get("start", ""))[:10]
    if not isinstance(rows, list) or not start:
        return []
    first = date.fromisoformat(start)
    days = int((summary or {}).get("days", len(rows)))
    return [
        behaviour.DayShare(
            (first + timedelta(days=int(row["day"]))).isoformat(),
            int(row["people"]),
            int(row["switchers"]),
        )
        for row in rows
        if isinstance(row, dict) and 0 <= int(row.get("day", -1)) < days
    ]


def realism_rows(summary: JsonObject | None) -> list[JsonObject]:
    """``realism.figures``: each simulated figure beside its published value and band."""
    realism = (summary or {}).get("realism")
    rows = realism.get("figures") if isinstance(realism, dict) else None
    if not isinstance(rows, list):
        return []
    return [r for r in rows if isinstance(r, dict) and {"name", "low", "high"} <= set(r)]


def world_journeys(
    rows: list[JsonObject] | None, summary: JsonObject | None, top: int = 3, steps: int = 6
) -> list[behaviour.PathShare]:
    """The world's own touchpoint trails (``device:action``) that ended in an order."""
    paths: Counter[tuple[str, ...]] = Counter()
    for row in rows or []:
        if isinstance(row.get("path"), list) and row["path"]:
            paths[_steps(row["path"], steps)] += 1
    total = sum(paths.values())
    block = summary.get("journeys") if summary else None
    if not paths and isinstance(block, dict):
        return top_paths(block.get("top_paths"), _int(block.get("orders")), top, steps)
    ranked = sorted(paths.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [behaviour.PathShare(path, count, count / total) for path, count in ranked if total]


def top_paths(items: Any, orders: int, top: int = 3, steps: int = 6) -> list[behaviour.PathShare]:
    """Ready-ranked ``[{path, orders, share?}]`` (summary ``top_paths``, compare ``journeys``)."""
    rows = [i for i in items or [] if isinstance(i, dict) and isinstance(i.get("path"), list)]
    total = max(orders, sum(_int(i.get("orders")) for i in rows), 1)
    return [
        behaviour.PathShare(
            _steps(i["path"], steps),
            _int(i.get("orders")),
            float(i["share"])
            if isinstance(i.get("share"), int | float)
            else _int(i.get("orders")) / total,
        )
        for i in rows[:top]
        if i["path"]
    ]


def _steps(path: list[Any], steps: int) -> tuple[str, ...]:
    return tuple(str(step).replace(":", " · ") for step in path[-steps:])


def funnel(tables: Tables) -> list[tuple[str, int]]:
    """Journey-stage counts in stage order, from summary.json or compare.json."""
    for source in (tables.summary, tables.compare):
        block = source.get("funnel") if source else None
        if isinstance(block, dict) and block:
            return _funnel_rows(block)
    return []


def _funnel_rows(block: dict[str, Any]) -> list[tuple[str, int]]:
    rows = []
    for stage in [*FUNNEL_STAGES, *(k for k in block if k not in FUNNEL_STAGES)]:
        value = block.get(stage)
        if isinstance(value, dict):
            value = value.get("count", value.get("n"))
        if isinstance(value, int | float):
            rows.append((stage, int(value)))
    return rows


def stitching(summary: JsonObject | None) -> StitchingTable | None:
    """Person level first, household level beside it (each with its by-rule views).

    A summary written before the two levels existed holds one household-aware
    score at the top of its block; it is shown under its old rule-set names.
    """
    block = summary.get("stitching") if summary else None
    if not isinstance(block, dict):
        return None
    person, house = block.get("person_level"), block.get("household_level")
    if not isinstance(person, dict) or not isinstance(house, dict):
        return _legacy_stitching(block)
    rows = []
    for label, level in ((PERSON_LABEL, person), (HOUSEHOLD_LABEL, house)):
        rows.append((label, _metrics(level)))
        by_rule = level.get("by_rule")
        if isinstance(by_rule, dict) and "deterministic" in by_rule:
            rows.append((f"{label}, deterministic only", _metrics(by_rule["deterministic"])))
    extras: dict[str, Any] = {
        f"person level: {k.replace('_', ' ')}": person[k]
        for k in PERSON_EXTRAS
        if isinstance(person.get(k), int | float)
    }
    types = person.get("by_device_type")
    if isinstance(types, dict):
        extras |= {
            f"person level: {kind} with owner's phone": v["share"]
            for kind, v in types.items()
            if isinstance(v, dict) and isinstance(v.get("share"), int | float)
        }
    extras |= {k: v for k, v in block.items() if not isinstance(v, dict)}
    definitions = {
        label: str(level.get("definition", ""))
        for label, level in ((PERSON_LABEL, person), (HOUSEHOLD_LABEL, house))
    }
    return StitchingTable(
        rows,
        _int(house.get("over_merges")),
        _int(house.get("under_merges")),
        extras,
        definitions,
    )


def _legacy_stitching(block: dict[str, Any]) -> StitchingTable:
    rows = [("overall", _metrics(block))]
    by_rule = block.get("by_rule")
    if isinstance(by_rule, dict):
        rows += [(str(rule), _metrics(values)) for rule, values in by_rule.items()]
    known = {*STITCH_METRICS, "by_rule", "over_merges", "under_merges"}
    extras = {k: v for k, v in block.items() if k not in known and not isinstance(v, dict)}
    return StitchingTable(
        rows, _int(block.get("over_merges")), _int(block.get("under_merges")), extras
    )


def _metrics(values: Any) -> dict[str, float]:
    if not isinstance(values, dict):
        return {}
    return {k: float(values[k]) for k in STITCH_METRICS if isinstance(values.get(k), int | float)}


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def message_table(rows: list[tuple[int, JsonObject]] | None, run_dir: Path) -> MessageTable | None:
    if rows is None:
        return None
    by_channel: dict[str, Counter[str]] = {}
    by_device: dict[str, Counter[str]] = {}
    for number, row in rows:
        outcome = message_outcome(row, run_dir / "messages.jsonl", number)
        channel, device = row.get("channel") or NONE_CHOSEN, row.get("device_type") or NONE_CHOSEN
        by_channel.setdefault(str(channel), Counter())[outcome] += 1
        by_device.setdefault(str(device), Counter())[outcome] += 1
    seen: Counter[str] = Counter()
    for counts in by_channel.values():
        seen.update(counts)
    outcomes = sorted(seen, key=lambda o: (o != "sent", -seen[o], o))
    return MessageTable(by_channel, by_device, outcomes, len(rows))


def message_outcome(row: JsonObject, path: Path, number: int) -> str:
    decision = row.get("decision")
    if decision == "sent":
        return "sent"
    if decision == "suppressed":
        return f"suppressed: {row.get('reason') or 'unspecified'}"
    raise ReportInputError(
        f"{path}: line {number}: key 'decision': expected 'sent' or 'suppressed', got {decision!r}"
    )


def profile_sizes(
    rows: list[JsonObject] | None, devices: dict[str, TruthDevice] | None
) -> ProfileSizes | None:
    if rows is None:
        return None
    sizes: Counter[int] = Counter()
    households = 0
    for row in rows:
        if row.get("kind") == "household":
            households += 1
            continue
        ids = row.get("device_ids")
        sizes[len(ids) if isinstance(ids, list) else 0] += 1
    people: Counter[int] = Counter()
    if devices is not None:
        owned = Counter(d.person_id for d in devices.values() if d.person_id is not None)
        people = Counter(owned.values())
    return ProfileSizes(sizes, people, households)


def thresholds(tables: Tables) -> list[Threshold]:
    """Every threshold the run and the load test checked, from summary and loadtest."""
    found = []
    if tables.summary:
        found += _threshold_rows(tables.summary.get("thresholds"), "run")
    if tables.load:
        found += _threshold_rows(tables.load.checks, "load test")
    return found


def _threshold_rows(block: Any, source: str) -> list[Threshold]:
    if isinstance(block, dict):
        block = [{"name": k, **v} if isinstance(v, dict) else {"name": k} for k, v in block.items()]
    if not isinstance(block, list):
        return []
    return [
        Threshold(
            str(item.get("name", "?")),
            item.get("value"),
            item.get("target"),
            bool(item.get("ok", False)),
            source,
        )
        for item in block
        if isinstance(item, dict)
    ]
