"""Messaging scored against ground truth: over-messaging per real person, experiment tables.

The engine caps messages per *stitched profile*; a person whose phone and
laptop were never stitched is two profiles to the engine and may get twice
the cap. The truth file knows which devices belong to whom, so here every
sent message is counted against the real person (or, for a shared TV or
speaker, the household) over each campaign's cap window.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from sim.engine.messaging import Messenger
from sim.trace.clock import epoch_seconds
from sim.trace.truth import Owners, owners_of
from sim.world.reactions import Tally


def cap_violations(
    decisions: list[dict[str, Any]],
    truth_rows: list[dict[str, Any]] | Owners,
    campaigns: Mapping[str, Any],
) -> tuple[int, int]:
    """(sends over a cap, true persons who got them), per each campaign's ``caps.total``."""
    index = owners_of(truth_rows)
    sends: dict[str, list[tuple[float, str]]] = {}
    for row in decisions:
        if row["decision"] != "sent" or not row.get("device_id"):
            continue
        who = index.owner(str(row["device_id"])) or f"device:{row['device_id']}"
        at = epoch_seconds(str(row["at"]))
        sends.setdefault(who, []).append((at, str(row["campaign"])))
    over = 0
    people: set[str] = set()
    for who, items in sends.items():
        items.sort()
        for i, (at, name) in enumerate(items):
            caps = campaigns[name].caps
            before = sum(1 for t, _ in items[:i] if at - t < caps.window)
            if before >= caps.total:
                over += 1
                people.add(who)
    return over, len(people)


def experiments(
    rows: list[dict[str, Any]], opened: Counter[str], bad: Counter[str]
) -> dict[str, dict[str, dict[str, int]]]:
    """``{campaign: {variant: {n, conversions, opened, bad_context}}}``: only counts, so
    shards add up key by key; rates and intervals are derived where they are shown."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for row in rows:
        key = f"{row['campaign']}/{row['variant']}"
        out.setdefault(str(row["campaign"]), {})[str(row["variant"])] = {
            "n": int(row["n"]),
            "conversions": int(row["conversions"]),
            "opened": opened.get(key, 0),
            "bad_context": bad.get(key, 0),
        }
    return out


def summary(
    tally: Tally,
    conversions: int,
    messenger: Messenger,
    truth_rows: list[dict[str, Any]] | Owners,
) -> dict[str, Any]:
    """The ``messaging`` block of ``summary.json`` for one shard (shards add up key by key).

    ``tally`` and ``conversions`` are what the closed loop counted
    (:class:`sim.world.reactions.MessagingLoop`); the engine's decisions are
    held against the truth here, never in the world.
    """
    decisions = messenger.decisions
    suppressed = Counter(d["reason"] for d in decisions if d["decision"] == "suppressed")
    violations, persons = cap_violations(decisions, truth_rows, messenger.campaigns)
    return {
        "sent": sum(1 for d in decisions if d["decision"] == "sent"),
        "suppressed": dict(sorted(suppressed.items())),
        "deferred": dict(sorted(messenger.deferred.items())),
        "delivered": tally.delivered,
        "opened": tally.opened,
        "clicked": tally.clicked,
        "conversions": conversions,
        "direct_conversions": tally.direct_conversions,
        "opt_outs": tally.opt_outs,
        "churned": tally.churned,
        "quiet_hours_violations": tally.quiet_hours_violations,
        "cap_violations_per_person": persons,
        "cap_violations": violations,
        "bad_context_deliveries": sum(tally.bad_context.values()),
        "bad_context_by_kind": dict(sorted(tally.bad_context.items())),
        "sent_by_channel": dict(sorted(tally.by_channel.items())),
        "experiments": experiments(
            messenger.experiments(), tally.opened_by_variant, tally.bad_by_variant
        ),
    }
