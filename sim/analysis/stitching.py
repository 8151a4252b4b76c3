"""How right is the identity graph? Scored against the simulation's ground truth, two ways.

The picture: the truth file says who owns each device (a person's phone,
laptop and watch) and who else ever used it (a partner on the laptop); the
engine's profiles say which devices it put together. Two questions, two
scores, each with one definition here and nowhere else:

**Person level** (:data:`PERSON_LEVEL`, the field's measure: the ICDM 2015
cross-device challenge and most papers since). Over every device with an
owner (``person_id`` set) that the engine saw: a device belongs with its
owner's other devices, whoever else used it; the engine links two devices
when both sit on the same *person* profile. A device the engine parked on a
household entity is linked to no one. A family TV or speaker (no owner) is
not scored here. ``strictly_personal`` scores the same way over the devices
nobody but their owner ever used (``also_used_by`` empty);
``by_device_type`` says, per type, what share of owned devices sit on the
same person profile as one of their owner's phones (a watch with the phone it
travels with), counting only devices whose owner has another device that is a
phone; ``fused_share`` is the share of person profiles holding owned devices
of two or more people.

**Household level** (:data:`HOUSEHOLD_LEVEL`, hopsim's household-aware view).
A device is *shared* when it has no owner (TV, speaker) or more than one
person used it. For a pair that contains a shared device, truth links the
pair when both devices are in the same household; the engine links it when
both are under the same household root (a person's own profile, or the
household entity the person or the device belongs to). For a pair of
personal devices it is person-level: same ``person_id`` versus same *person*
profile (two personal devices parked on a household entity are not thereby
linked to each other). So fusing a family into one person costs precision on
every cross-person pair, while putting the TV on the household (not on one
parent) earns recall on every family member.

Both report *pairwise* scores over device pairs (precision = correctly
linked pairs / linked pairs, recall = correctly linked pairs / pairs that
should be linked, F1, and F0.5, which weighs precision twice as much as
recall, the ICDM 2015 measure) and *B-cubed* scores per device (precision =
the share of the devices grouped with it that belong with it, recall = the
share of the devices that belong with it that are grouped with it, both
averaged over devices; Bagga and Baldwin, 1998), so a huge wrong profile
costs as much as it hurts each device in it. When nothing is linked,
precision is 1.0; when nothing should be, recall is 1.0.

``by_rule`` scores two views of the same profiles: ``deterministic`` (every
device attached by a scored rule, ``probabilistic`` or ``turns``, split off
alone, every probabilistic household membership dropped) and ``with_probabilistic``
(the profiles as they are).
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.engine.identity.records import Profile
from sim.trace.truth import TruthError, truth_device

PROBABILISTIC = "probabilistic"
SCORED_LINKS = frozenset({PROBABILISTIC, "turns"})
"""Link rules that rest on circumstantial evidence; the ``deterministic`` view undoes them."""
PHONE = "phone"

PERSON_LEVEL = (
    "person level (ICDM 2015): every device with an owner belongs with its owner's other"
    " devices; linked = on the same person profile, a device parked on a household is"
    " linked to no one"
)
HOUSEHOLD_LEVEL = (
    "household level: a pair with a shared device (no owner, or used by 2+ people) is right"
    " when both are in one household and under one household root; personal pairs as at"
    " person level"
)


@dataclass(frozen=True)
class Truth:
    """One device's ground truth as the scorer needs it."""

    household: str
    person: str | None
    shared: bool
    identified: bool
    device_type: str = ""
    personal: bool = False  # has an owner and nobody else ever used it


@dataclass(frozen=True)
class Placement:
    """Where the engine put one device: its profile and that profile's household root."""

    profile: str
    root: str


def read_truth(rows: Iterable[Mapping[str, Any]]) -> dict[str, Truth]:
    """``truth.jsonl.gz`` rows keyed by device id, read by :func:`sim.trace.truth.truth_device`."""
    out: dict[str, Truth] = {}
    deque(reading_truth(rows, out), maxlen=0)
    return out


def reading_truth(
    rows: Iterable[Mapping[str, Any]], out: dict[str, Truth]
) -> Iterator[Mapping[str, Any]]:
    """Each of ``rows``, handed on once :func:`read_truth` has read it into ``out``: another
    reader of the truth table (the population's realism rows) reads it in the same pass."""
    for number, row in enumerate(rows, start=1):
        try:
            device = truth_device(row)
        except TruthError as exc:
            raise TruthError(f"truth row {number}: {exc}") from exc
        shared = device.person_id is None or bool(device.also_used_by)
        out[device.device_id] = Truth(
            household=str(device.household_id),
            person=device.person_id,
            shared=shared,
            identified=bool(device.user_ids),
            device_type=device.device_type,
            personal=not shared,
        )
        yield row


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
            if strip_probabilistic and links.get(device) in SCORED_LINKS:
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
    cells = [(truth[d], placed[d]) for d in devices]
    shared = [(p.root, t.household) for t, p in cells if t.shared]
    personal = [(p.profile, t.person) for t, p in cells if not t.shared]
    placed_in = [(p.root, t.household) for t, p in cells]
    counts: dict[str, Counter[Any]] = defaultdict(Counter)
    counts["root"] = Counter(root for root, _ in placed_in)
    counts["household"] = Counter(household for _, household in placed_in)
    counts["root_household"] = Counter(placed_in)
    counts["root_shared"] = Counter(root for root, _ in shared)
    counts["household_shared"] = Counter(household for _, household in shared)
    counts["root_household_shared"] = Counter(shared)
    counts["profile_personal"] = Counter(profile for profile, _ in personal)
    counts["person_personal"] = Counter(person for _, person in personal)
    counts["profile_person"] = Counter(personal)
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
    return _scores(predicted, actual, both, *_bcubed(devices, truth, placed, c))


def _scores(predicted: int, actual: int, correct: int, bp: float, br: float) -> dict[str, float]:
    """Pairwise counts and B-cubed precision and recall as the scores every level reports."""
    precision, recall = _ratio(correct, predicted), _ratio(correct, actual)
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
        "correct_pairs": correct,
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
    root, household, root_household = c["root"], c["household"], c["root_household"]
    root_shared, household_shared = c["root_shared"], c["household_shared"]
    profile_personal, person_personal = c["profile_personal"], c["person_personal"]
    profile_person, root_household_shared = c["profile_person"], c["root_household_shared"]
    for d in devices:
        t, p = truth[d], placed[d]
        if t.shared:
            mine = root[p.root]
            theirs = household[t.household]
            both = root_household[(p.root, t.household)]
        else:
            mine = profile_personal[p.profile] + root_shared[p.root]
            theirs = person_personal[t.person] + household_shared[t.household]
            both = (
                profile_person[(p.profile, t.person)] + root_household_shared[(p.root, t.household)]
            )
        precision += both / mine
        recall += both / theirs
    return precision / len(devices), recall / len(devices)


def merge_errors(truth: dict[str, Truth], placed: dict[str, Placement]) -> dict[str, int]:
    """Over-merges: extra persons fused into a profile; under-merges: extra profiles per person.

    Over personal devices: each distinct (profile, person) pair beyond the
    first of its profile is a person too many on that profile, beyond the
    first of its person a profile too many for that person.
    """
    found = {
        (p.profile, t.person)
        for d, p in placed.items()
        if (t := truth.get(d)) is not None and not t.shared and t.person is not None
    }
    return {
        "over_merges": len(found) - len({profile for profile, _ in found}),
        "under_merges": len(found) - len({person for _, person in found}),
    }


def person_metrics(
    truth: dict[str, Truth], placed: dict[str, Placement], strictly_personal: bool = False
) -> dict[str, float]:
    """Person-level pairwise and B-cubed scores over owned devices (:data:`PERSON_LEVEL`).

    A device's cluster is its person profile; a device on a household entity
    (``Placement.profile`` names the device itself there) is a cluster of one.
    """
    devices = [
        d
        for d in sorted(placed)
        if d in truth
        and truth[d].person is not None
        and (truth[d].personal or not strictly_personal)
    ]
    cells = [(placed[d].profile, truth[d].person) for d in devices]
    profile: Counter[str] = Counter(p for p, _ in cells)
    person: Counter[str | None] = Counter(q for _, q in cells)
    both: Counter[tuple[str, str | None]] = Counter(cells)
    predicted = sum(map(pairs, profile.values()))
    actual = sum(map(pairs, person.values()))
    correct = sum(map(pairs, both.values()))
    bp = br = 0.0
    for cell in cells:  # summed device by device, in the devices' order
        shared_with = both[cell]
        bp += shared_with / profile[cell[0]]
        br += shared_with / person[cell[1]]
    n = len(devices)
    bp, br = (bp / n, br / n) if n else (1.0, 1.0)
    return _scores(predicted, actual, correct, bp, br) | {"devices_scored": n}


def fused_profiles(rows: list[Mapping[str, Any]], truth: dict[str, Truth]) -> dict[str, Any]:
    """Person profiles holding owned devices of two or more people, over person profiles."""
    persons = [
        {truth[d].person for d in row.get("device_ids", ()) if d in truth and truth[d].person}
        for row in rows
        if row.get("kind") != "household" and row.get("device_ids")
    ]
    fused = sum(1 for owners in persons if len(owners) > 1)
    return {
        "fused_profiles": fused,
        "person_profiles": len(persons),
        "fused_share": _ratio(fused, len(persons)) if persons else 0.0,
    }


def with_owner_phone(truth: dict[str, Truth], placed: dict[str, Placement]) -> dict[str, Any]:
    """Per device type: owned devices on the same person profile as one of their owner's phones.

    Counted over owned devices whose owner has another device, seen by the
    engine, that is a phone (a phone is compared with its owner's other phones).
    """
    phones: dict[str, list[str]] = defaultdict(list)
    for d in sorted(placed):
        t = truth.get(d)
        if t is not None and t.person is not None and t.device_type == PHONE:
            phones[t.person].append(d)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for d in sorted(placed):
        t = truth.get(d)
        if t is None or t.person is None:
            continue
        others = [placed[p].profile for p in phones.get(t.person, ()) if p != d]
        if not others:
            continue
        counts[t.device_type]["devices"] += 1
        counts[t.device_type]["with_owner_phone"] += placed[d].profile in others
    return {
        kind: {
            "devices": c["devices"],
            "with_owner_phone": c["with_owner_phone"],
            "share": _ratio(c["with_owner_phone"], c["devices"]),
        }
        for kind, c in sorted(counts.items())
    }


def person_level(
    rows: list[Mapping[str, Any]],
    truth: dict[str, Truth],
    full: dict[str, Placement],
    deterministic: dict[str, Placement],
) -> dict[str, Any]:
    """The ``stitching.person_level`` block of ``summary.json``."""
    result: dict[str, Any] = {"definition": PERSON_LEVEL}
    as_placed = person_metrics(truth, full)  # the headline is the profiles as they are
    result.update(as_placed)
    result.update(fused_profiles(rows, truth))
    result["strictly_personal"] = person_metrics(truth, full, strictly_personal=True)
    result["by_device_type"] = with_owner_phone(truth, full)
    result["by_rule"] = {
        "deterministic": person_metrics(truth, deterministic),
        "with_probabilistic": dict(as_placed),
    }
    return result


def household_level(
    truth: dict[str, Truth], full: dict[str, Placement], deterministic: dict[str, Placement]
) -> dict[str, Any]:
    """The ``stitching.household_level`` block of ``summary.json``."""
    result: dict[str, Any] = {"definition": HOUSEHOLD_LEVEL}
    as_placed = metrics(truth, full) | merge_errors(truth, full)  # the profiles as they are
    result.update(as_placed)
    result["by_rule"] = {
        "deterministic": metrics(truth, deterministic) | merge_errors(truth, deterministic),
        "with_probabilistic": dict(as_placed),
    }
    return result


def score(
    profiles: Sequence[Profile | Mapping[str, Any]], truth_rows: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The ``stitching`` block of ``summary.json``: person level first, household level beside."""
    return score_read(profiles, read_truth(truth_rows))


def score_read(
    profiles: Sequence[Profile | Mapping[str, Any]], truth: dict[str, Truth]
) -> dict[str, Any]:
    """:func:`score` with the truth already read (:func:`read_truth`, in the rows' order)."""
    rows = as_rows(profiles)
    full = placements(rows, strip_probabilistic=False)
    deterministic = placements(rows, strip_probabilistic=True)
    result: dict[str, Any] = {
        "person_level": person_level(rows, truth, full, deterministic),
        "household_level": household_level(truth, full, deterministic),
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
