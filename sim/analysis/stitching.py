"""How right is the identity graph? Scored against the simulation's ground truth.

The picture: the truth file says which devices belong together (a person's
phone, laptop and watch; a household's TV and speaker); the engine's
profiles say which it put together. We score the agreement two ways, over
the devices the engine saw:

*Pairwise* over device pairs: precision = correctly linked pairs / linked
pairs, recall = correctly linked pairs / pairs that should be linked,
F1 and F0.5 (precision weighted twice as much as recall, the ICDM 2015
cross-device challenge's measure). *B-cubed* per device: precision = the
share of the devices grouped with it that belong with it, recall = the share
of the devices that belong with it that are grouped with it, both averaged
over devices (Bagga and Baldwin, 1998), so a huge wrong profile costs as much
as it hurts each device in it.

Shared devices are scored against the household. A device is *shared* when
the truth says so (``person_id`` is null, a family TV or speaker) or when
more than one person uses it (``also_used_by`` is not empty: a shared
laptop, a partner's phone). For a pair that contains a shared device, the
question is household-level: truth links the pair when both devices are in
the same household; the engine links it when both are under the same
household root (a person's own profile, or the household entity the person
or the device belongs to). For a pair of personal devices the question is
person-level: same ``person_id`` versus same *person* profile (two personal
devices parked on a household entity are not thereby linked to each other). So fusing a family into
one person costs precision on every cross-person pair, while putting the TV
on the household (not on one parent) earns recall on every family member.
When nothing is linked, precision is 1.0; when nothing should be, recall is 1.0.

``by_rule`` scores two views of the same profiles: ``deterministic`` (every
device attached by the ``probabilistic`` rule split off alone, every
probabilistic household membership dropped) and ``with_probabilistic``
(the profiles as they are).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.engine.identity.records import Profile

PROBABILISTIC = "probabilistic"


@dataclass(frozen=True)
class Truth:
    """One device's ground truth as the scorer needs it."""

    household: str
    person: str | None
    shared: bool
    identified: bool


@dataclass(frozen=True)
class Placement:
    """Where the engine put one device: its profile and that profile's household root."""

    profile: str
    root: str


def read_truth(rows: Iterable[Mapping[str, Any]]) -> dict[str, Truth]:
    """``truth.jsonl.gz`` rows keyed by device id."""
    out: dict[str, Truth] = {}
    for row in rows:
        person = row.get("person_id")
        shared = person is None or bool(row.get("also_used_by"))
        out[str(row["device_id"])] = Truth(
            household=str(row.get("household_id")),
            person=None if person is None else str(person),
            shared=shared,
            identified=bool(row.get("user_ids")),
        )
    return out


def as_rows(profiles: Sequence[Profile | Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [p.as_json() if isinstance(p, Profile) else p for p in profiles]


def placements(rows: list[Mapping[str, Any]], strip_probabilistic: bool) -> dict[str, Placement]:
    """Device -> (profile, household root); optionally with probabilistic links undone."""
    out: dict[str, Placement] = {}
    for row in rows:
        pid = str(row["profile_id"])
        links: Mapping[str, str] = row.get("links") or {}
        household = row.get("household_id")
        if strip_probabilistic and row.get("household_rule") == PROBABILISTIC:
            household = None
        root = pid if row.get("kind") == "household" or not household else str(household)
        for device in row.get("device_ids", ()):
            if device in out:
                continue
            if strip_probabilistic and links.get(device) == PROBABILISTIC:
                out[device] = Placement(f"alone:{device}", f"alone:{device}")
            elif row.get("kind") == "household":
                out[device] = Placement(f"{pid}#{device}", root)
            else:
                out[device] = Placement(pid, root)
    return out


def pairs(n: int) -> int:
    return n * (n - 1) // 2


def _cell_counts(
    devices: list[str], truth: dict[str, Truth], placed: dict[str, Placement]
) -> dict[str, Counter[Any]]:
    counts: dict[str, Counter[Any]] = defaultdict(Counter)
    for d in devices:
        t, p = truth[d], placed[d]
        counts["root"][p.root] += 1
        counts["household"][t.household] += 1
        counts["root_household"][(p.root, t.household)] += 1
        if t.shared:
            counts["root_shared"][p.root] += 1
            counts["household_shared"][t.household] += 1
            counts["root_household_shared"][(p.root, t.household)] += 1
        else:
            counts["profile_personal"][p.profile] += 1
            counts["person_personal"][t.person] += 1
            counts["profile_person"][(p.profile, t.person)] += 1
    return counts


def _linked(group: Counter[Any], shared: Counter[Any]) -> int:
    """Pairs within each group that contain at least one shared device."""
    return sum(pairs(n) - pairs(n - shared.get(key, 0)) for key, n in group.items())


def _ratio(num: float, den: float) -> float:
    return num / den if den else 1.0


def _f(precision: float, recall: float, beta: float) -> float:
    b2 = beta * beta
    den = b2 * precision + recall
    return (1 + b2) * precision * recall / den if den else 0.0


def metrics(truth: dict[str, Truth], placed: dict[str, Placement]) -> dict[str, float]:
    """Pairwise and B-cubed precision, recall and F-scores of one placement."""
    devices = sorted(d for d in placed if d in truth)
    c = _cell_counts(devices, truth, placed)
    predicted = _linked(c["root"], c["root_shared"]) + sum(
        map(pairs, c["profile_personal"].values())
    )
    actual = _linked(c["household"], c["household_shared"]) + sum(
        map(pairs, c["person_personal"].values())
    )
    both = _linked(c["root_household"], c["root_household_shared"]) + sum(
        map(pairs, c["profile_person"].values())
    )
    precision, recall = _ratio(both, predicted), _ratio(both, actual)
    bp, br = _bcubed(devices, truth, placed, c)
    return {
        "pairwise_precision": precision,
        "pairwise_recall": recall,
        "f1": _f(precision, recall, 1.0),
        "f05": _f(precision, recall, 0.5),
        "bcubed_precision": bp,
        "bcubed_recall": br,
        "bcubed_f1": _f(bp, br, 1.0),
        "predicted_pairs": predicted,
        "true_pairs": actual,
        "correct_pairs": both,
    }


def _bcubed(
    devices: list[str],
    truth: dict[str, Truth],
    placed: dict[str, Placement],
    c: dict[str, Counter[Any]],
) -> tuple[float, float]:
    if not devices:
        return 1.0, 1.0
    precision = recall = 0.0
    for d in devices:
        t, p = truth[d], placed[d]
        if t.shared:
            mine = c["root"][p.root]
            theirs = c["household"][t.household]
            both = c["root_household"][(p.root, t.household)]
        else:
            mine = c["profile_personal"][p.profile] + c["root_shared"][p.root]
            theirs = c["person_personal"][t.person] + c["household_shared"][t.household]
            both = (
                c["profile_person"][(p.profile, t.person)]
                + c["root_household_shared"][(p.root, t.household)]
            )
        precision += both / mine
        recall += both / theirs
    return precision / len(devices), recall / len(devices)


def merge_errors(truth: dict[str, Truth], placed: dict[str, Placement]) -> dict[str, int]:
    """Over-merges: extra persons fused into a profile; under-merges: extra profiles per person."""
    persons_in: dict[str, set[str]] = defaultdict(set)
    profiles_of: dict[str, set[str]] = defaultdict(set)
    for d, p in placed.items():
        t = truth.get(d)
        if t is None or t.shared or t.person is None:
            continue
        persons_in[p.profile].add(t.person)
        profiles_of[t.person].add(p.profile)
    return {
        "over_merges": sum(len(s) - 1 for s in persons_in.values()),
        "under_merges": sum(len(s) - 1 for s in profiles_of.values()),
    }


def score(
    profiles: Sequence[Profile | Mapping[str, Any]], truth_rows: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The ``stitching`` block of ``summary.json``."""
    truth = read_truth(truth_rows)
    rows = as_rows(profiles)
    full = placements(rows, strip_probabilistic=False)
    deterministic = placements(rows, strip_probabilistic=True)
    result: dict[str, Any] = metrics(truth, full)
    result.update(merge_errors(truth, full))
    result["by_rule"] = {
        "deterministic": metrics(truth, deterministic) | merge_errors(truth, deterministic),
        "with_probabilistic": metrics(truth, full) | merge_errors(truth, full),
    }
    biggest = max(rows, key=lambda r: len(r.get("device_ids", ())), default=None)
    result["largest_profile"] = {
        "profile_id": biggest["profile_id"] if biggest else None,
        "devices": len(biggest.get("device_ids", ())) if biggest else 0,
    }
    personal = [t for t in truth.values() if t.person is not None]
    result["never_identified_share"] = _ratio(
        sum(1 for t in personal if not t.identified), len(personal)
    )
    result["devices_scored"] = sum(1 for d in full if d in truth)
    result["devices_unseen"] = sum(1 for d in truth if d not in full)
    return result
