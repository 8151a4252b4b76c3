"""Journeys scored from their rows: what each step did to the people who reached it.

The walker logs every move of every counter on the board (entered, advanced,
exited, converted) and the messenger logs every message decision; the closed
loop counts opens and clicks per ``journey/step/path``. Here those are turned
into the ``summary.json`` block ``journey_programs`` (the key ``journeys`` is
taken by the touchpoint paths to purchase): per journey, per step, how many
entered, were sent a message or had it suppressed (and why), opened, clicked,
went on to each next step, left (and why), and converted afterwards; per
experiment path, exposures, conversions and side effects for ``hopsim
compare``; and the time from entry to conversion in buckets.

Everything is a count (seconds are a sum), so shards add up key by key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sim.engine.messaging import Messenger
from sim.trace.clock import epoch_seconds
from sim.trace.truth import Owners, owners_of
from sim.world.reactions import Tally

BUCKETS: tuple[tuple[str, float], ...] = (
    ("under_1h", 3600.0),
    ("1h_6h", 6 * 3600.0),
    ("6h_24h", 24 * 3600.0),
    ("1d_3d", 72 * 3600.0),
    ("over_3d", float("inf")),
)


def _step_block(kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "entered": 0,
        "sent": 0,
        "suppressed": {},
        "opened": 0,
        "clicked": 0,
        "advanced": {},
        "exited": {},
        "converted_after": 0,
        "devices_sent": {},
        "devices_opened": {},
    }


def _bump(table: dict[str, int], key: str, by: int = 1) -> None:
    table[key] = table.get(key, 0) + by


def summary(
    rows: Iterable[Mapping[str, Any]],
    decisions: Iterable[Mapping[str, Any]],
    kinds: Mapping[str, Mapping[str, str]],
    opened: Mapping[str, int],
    clicked: Mapping[str, int],
    bad: Mapping[str, int],
    opened_by_device: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The ``journey_programs`` block for one shard.

    ``rows``: the walker's rows; ``decisions``: the messenger's (only those
    with a ``journey`` key are read); ``kinds``: journey -> step id -> kind
    (every declared step is listed, reached or not); ``opened``, ``clicked``,
    ``bad``: the loop's counts per ``journey/step/path`` (campaign/variant);
    ``opened_by_device``: its opens per ``journey/step|device type``.
    """
    out: dict[str, Any] = {}
    for name, steps in kinds.items():
        out[name] = {
            "entered": 0,
            "converted": 0,
            "seconds_to_conversion": 0,
            "time_to_conversion": {label: 0 for label, _ in BUCKETS},
            "exited": {},
            "walked_twice": 0,
            "paths": {},
            "steps": {sid: _step_block(kind) for sid, kind in steps.items()},
        }
    visited: dict[tuple[str, str], list[str]] = {}
    path_of: dict[tuple[str, str], str] = {}
    for row in rows:
        block = out.get(str(row["journey"]))
        if block is None:
            continue
        run = (str(row["journey"]), str(row["run"]))
        what, step, to = row["event"], str(row["step"]), str(row["to"])
        steps = block["steps"]
        if what == "entered":
            block["entered"] += 1
            steps[to]["entered"] += 1
            visited[run] = [to]
        elif what == "advanced":
            _bump(steps[step]["advanced"], to or "(end)")
            if steps[step]["kind"] == "experiment":
                path = str(row["label"])
                path_of[run] = path
                _bump(block["paths"].setdefault(path, _path_block()), "n")
            if to:
                steps[to]["entered"] += 1
                visited.setdefault(run, []).append(to)
        elif what == "exited":
            reason = str(row["label"])
            _bump(block["exited"], reason)
            if step in steps:
                _bump(steps[step]["exited"], reason)
        elif what == "converted":
            block["converted"] += 1
            seconds = int(row["seconds"])
            block["seconds_to_conversion"] += seconds
            label = next(label for label, edge in BUCKETS if seconds < edge)
            block["time_to_conversion"][label] += 1
            for sid in dict.fromkeys(visited.get(run, [])):
                steps[sid]["converted_after"] += 1
            if run in path_of:
                _bump(block["paths"][path_of[run]], "conversions")
    _messages(out, decisions)
    _loop_counts(out, opened, "opened")
    _loop_counts(out, clicked, "clicked")
    _loop_counts(out, bad, "bad_context", steps_too=False)
    for label, count in (opened_by_device or {}).items():
        campaign, _, kind = label.rpartition("|")
        name, _, sid = campaign.partition("/")
        step = out.get(name, {}).get("steps", {}).get(sid)
        if step is not None:
            _bump(step["devices_opened"], kind, count)
    return out


def _path_block() -> dict[str, int]:
    return {"n": 0, "conversions": 0, "sent": 0, "opened": 0, "clicked": 0, "bad_context": 0}


def _messages(out: dict[str, Any], decisions: Iterable[Mapping[str, Any]]) -> None:
    for row in decisions:
        name = row.get("journey")
        if name is None or name not in out:
            continue
        step = out[name]["steps"].get(str(row.get("step")))
        if step is None:
            continue
        if row["decision"] == "sent":
            step["sent"] += 1
            _bump(step["devices_sent"], str(row["device_type"]))
            path = str(row.get("variant") or "")
            if path in out[name]["paths"]:
                out[name]["paths"][path]["sent"] += 1
        else:
            _bump(step["suppressed"], str(row["reason"]))


def _loop_counts(
    out: dict[str, Any], counts: Mapping[str, int], key: str, steps_too: bool = True
) -> None:
    """``journey/step/path`` counts onto the steps and the experiment paths."""
    for label, count in counts.items():
        parts = label.split("/")
        if len(parts) != 3 or parts[0] not in out:
            continue
        name, sid, path = parts
        step = out[name]["steps"].get(sid)
        if step is not None and steps_too:
            step[key] += count
        if path in out[name]["paths"]:
            out[name]["paths"][path][key] += count


def step_kinds(journeys: Iterable[Any]) -> dict[str, dict[str, str]]:
    """journey -> step id -> kind, for :func:`summary`."""
    return {j.name: {sid: s.kind for sid, s in j.steps.items()} for j in journeys}


def shard_block(
    messenger: Messenger, tally: Tally, truth_rows: list[dict[str, Any]] | Owners | None = None
) -> dict[str, Any]:
    """The block for one shard's messenger and loop (``{}`` without journeys)."""
    walker = messenger.walker
    if walker is None:
        return {}
    block = summary(
        walker.rows,
        messenger.decisions,
        step_kinds(walker.journeys.values()),
        tally.opened_by_variant,
        tally.clicked_by_variant,
        tally.bad_by_variant,
        tally.opened_by_device,
    )
    if truth_rows is not None:
        owner = owners_of(truth_rows)

        def person(profile_id: str) -> str | None:
            card = messenger.book.get(profile_id)
            for device in sorted(card.devices) if card is not None else ():
                who = owner.owner(device)
                if who is not None and not who.startswith("household:"):
                    return who
            return None

        for name, count in walked_twice(walker.rows, person).items():
            block[name]["walked_twice"] = count
    return block


def walked_twice(
    rows: Iterable[Mapping[str, Any]], person: Callable[[str], str | None]
) -> dict[str, int]:
    """Per journey, the TRUE persons with two runs at once: one person the engine saw as
    two profiles (a stitching miss), each walking the journey and getting its messages."""
    spans: dict[tuple[str, str], tuple[str, float, float]] = {}
    for row in rows:
        key = (str(row["journey"]), str(row["run"]))
        at = epoch_seconds(str(row["at"]))
        if row["event"] == "entered":
            spans[key] = (str(row["profile_id"]), at, float("inf"))
        elif row["event"] == "exited" and key in spans:
            pid, start, _ = spans[key]
            spans[key] = (pid, start, at)
    by_person: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for (journey, _), (pid, start, end) in spans.items():
        who = person(pid)
        if who is not None:
            by_person.setdefault((journey, who), []).append((start, end))
    out: dict[str, int] = {}
    for (journey, _), runs in sorted(by_person.items()):
        out[journey] = out.get(journey, 0) + int(_overlap(runs))
    return out


def _overlap(runs: list[tuple[float, float]]) -> bool:
    """Do any two (start, end) spans overlap?"""
    latest_end = -float("inf")
    for start, end in sorted(runs):
        if start < latest_end:
            return True
        latest_end = max(latest_end, end)
    return False
