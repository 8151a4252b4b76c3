"""What stitching errors cost in messages, counted against the truth.

The picture: Mason's phone and laptop were never stitched, so to the engine
they are two people. A flash sale goes out; both "people" qualify, and Mason's
pocket and his desk buzz within the same minute. That is a *split-profile
repeat*. The other way round, Mason's laptop sits on his partner Susan's
profile (she logged in on it first), so campaigns chosen for "Susan" from a
history that is half Mason's land on Mason's devices: a *fused-profile send*.

Both are counted from ``messages.jsonl`` (the messenger's own decision rows)
and ``truth.jsonl.gz`` (who owns each device). A device with no owner (a
family TV or speaker) belongs to no one person and is never counted.

- ``split_profile_repeats``: sent messages that reach a device whose owner got
  the same campaign on another of their devices, under a different profile,
  at most :data:`REPEAT_SECONDS` earlier.
- ``fused_profile_sends``: sent messages on a *fused* profile, one whose
  decision rows address devices of two or more owners, that reach a device
  whose owner is not the profile's person. The rows do not name the device
  whose events chose the message, so the profile's person is taken to be the
  owner its decisions addressed most (ties: the one addressed first, then the
  lower person id); every other owner's send was chosen from a history that
  is mostly someone else's.

The profile view is the messenger's at the time (its rows), not the final
``profiles.jsonl``: finalize may later move a device, but the messages were
already chosen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from itertools import takewhile
from typing import Any

REPEAT_SECONDS = 60.0
SENT = "sent"


def owners(truth_rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """device_id -> owning person, for devices that have one."""
    return {
        str(row["device_id"]): str(row["person_id"])
        for row in truth_rows
        if row.get("person_id") is not None
    }


def seconds(stamp: Any) -> float:
    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()


def split_profile_repeats(rows: list[Mapping[str, Any]], owner: Mapping[str, str]) -> int:
    """Sends that repeat a campaign to one person on another device and another profile."""
    sends: dict[tuple[str, str], list[tuple[float, str, str]]] = defaultdict(list)
    for row in rows:
        device = str(row.get("device_id") or "")
        if row.get("decision") != SENT or device not in owner:
            continue
        key = (str(row.get("campaign")), owner[device])
        sends[key].append((seconds(row["at"]), device, str(row.get("profile_id"))))
    repeats = 0
    for items in sends.values():
        items.sort()
        for i, (at, device, profile) in enumerate(items):
            repeats += any(
                d != device and p != profile for _, d, p in _within(items[:i], at - REPEAT_SECONDS)
            )
    return repeats


def _within(
    earlier: list[tuple[float, str, str]], since: float
) -> Iterable[tuple[float, str, str]]:
    """The latest of ``earlier`` (sorted by time) back to ``since``, newest first."""
    return takewhile(lambda item: item[0] >= since, reversed(earlier))


def profile_persons(rows: list[Mapping[str, Any]], owner: Mapping[str, str]) -> dict[str, set[str]]:
    """profile_id -> owners of the devices its decision rows addressed."""
    out: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        device = str(row.get("device_id") or "")
        if device in owner:
            out[str(row.get("profile_id"))].add(owner[device])
    return out


def main_persons(rows: list[Mapping[str, Any]], owner: Mapping[str, str]) -> dict[str, str]:
    """profile_id -> the owner its decisions addressed most (ties: first addressed, lower id)."""
    tally: dict[str, dict[str, list[float]]] = defaultdict(dict)
    for row in rows:
        device = str(row.get("device_id") or "")
        if device not in owner:
            continue
        at = seconds(row["at"])
        seen = tally[str(row.get("profile_id"))].setdefault(owner[device], [0.0, at])
        seen[0] += 1
        seen[1] = min(seen[1], at)
    return {
        profile: min(counts, key=lambda person: (-counts[person][0], counts[person][1], person))
        for profile, counts in tally.items()
    }


def fused_profile_sends(rows: list[Mapping[str, Any]], owner: Mapping[str, str]) -> int:
    """Sends on a profile holding several owners' devices that reach not-its-person."""
    persons = profile_persons(rows, owner)
    main = main_persons(rows, owner)
    count = 0
    for row in rows:
        device = str(row.get("device_id") or "")
        profile = str(row.get("profile_id"))
        if row.get("decision") != SENT or device not in owner or len(persons[profile]) < 2:
            continue
        count += owner[device] != main[profile]
    return count


def stitching_costs(
    decisions: Iterable[Mapping[str, Any]], truth_rows: Iterable[Mapping[str, Any]]
) -> dict[str, int]:
    """``messaging.split_profile_repeats`` and ``messaging.fused_profile_sends``."""
    return owner_costs(decisions, owners(truth_rows))


def owner_costs(decisions: Iterable[Mapping[str, Any]], owner: Mapping[str, str]) -> dict[str, int]:
    """:func:`stitching_costs` with the truth already read (``owner``: :func:`owners`)."""
    rows = list(decisions)
    return {
        "split_profile_repeats": split_profile_repeats(rows, owner),
        "fused_profile_sends": fused_profile_sends(rows, owner),
    }
