"""The whole programme against its global control group, and journeys eating each other's credit.

**Programme lift.** A ``[programme]`` with ``control_percent`` holds a
random few percent of profiles out of every campaign and journey (only
transactional messages reach them). Braze's Global Control Group report
compares what those people did with what everyone else did over the same
period, whether or not a message ever reached them
(https://www.braze.com/docs/user_guide/engagement_tools/testing/global_control_group/):
an intention-to-treat comparison of two random groups. Here the unit is the
true person: a person is *held out* when every one of their profiles at the
end of the run is in the control group, *treated* when none is, and *split*
when a stitching miss put their devices on profiles on both sides (counted,
left out of both groups). Conversion is ordering at least once during the
run (the world's ``Order Completed``); the lift is the treated rate minus the
held-out rate with Newcombe's 95% interval. A held-out group of 0 people
cannot measure anything: a clear error, not a lift of 0.

**Cannibalisation.** "Marketing getting credit for results you would have got
anyway, organically or from other activities" (INCRMNTAL, "How to identify
cannibalization",
https://knowledgebase.incrmntal.com/knowledge/use-case-how-to-identify-cannibalization).
Between two journeys A and B of one programme: take the people who entered
both when both ran; count how many of them A's goal attribution credits
(a ``converted`` move of A) when B is switched off, and when B runs. The
cannibalisation of A by B is the fall, ``credited(A without B) - credited(A
with B)``, as a share of those people (paired person by person across the
two runs of one seed, normal 95% interval) and as a share of A's credit
without B. A positive number means B took (or made redundant) conversions A
was credited with on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.analysis.compare import newcombe, rate, wilson
from sim.analysis.compare_designs import paired_lift
from sim.errors import HopsimError

if TYPE_CHECKING:
    from sim.engine.messaging import Messenger
    from sim.trace.truth import Owners

GROUPS = ("held_out", "treated")


def programme_counts(
    messenger: Messenger,
    truth_rows: list[dict[str, Any]] | Owners,
    people: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """One shard's counts for ``summary.json`` ``messaging.programme`` (``{}`` without a
    global control group). Counts only, so shards add up key by key."""
    from sim.trace.truth import owners_of

    policy = messenger.programme
    if policy.control_percent <= 0:
        return {}
    owner = owners_of(truth_rows)
    sides: dict[str, set[bool]] = {}
    for pid, card in messenger.book.states.items():
        for device in card.devices:
            who = owner.owner(device)
            if who is not None and not who.startswith("household:"):
                sides.setdefault(who, set()).add(policy.held_out(pid))
    messaged = {
        owner.owner(str(d["device_id"]))
        for d in messenger.decisions
        if d["decision"] == "sent" and d.get("device_id")
    }
    out: dict[str, Any] = {
        "control_percent": 0,  # set by the runner: a percentage, not a count
        "held_out": {"persons": 0, "converted": 0, "messaged": 0},
        "treated": {"persons": 0, "converted": 0, "messaged": 0},
        "split": 0,
        "unseen": 0,
    }
    for person in people:
        who = str(person["person_id"])
        side = sides.get(who)
        if side is None:
            out["unseen"] += 1
            continue
        if len(side) == 2:
            out["split"] += 1
            continue
        group = out["held_out" if True in side else "treated"]
        group["persons"] += 1
        group["converted"] += int(int(person.get("orders") or 0) > 0)
        group["messaged"] += int(who in messaged)
    return out


def programme_lift(block: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Rates with Wilson intervals and the treated-minus-held-out lift (Newcombe).

    Raises :class:`HopsimError` naming ``where`` when either group has no one.
    """
    held, treated = block["held_out"], block["treated"]
    for name in GROUPS:
        if int(block[name]["persons"]) == 0:
            raise HopsimError(
                f"{where}: the programme's {name.replace('_', '-')} group has 0 people"
                f" ([programme] control_percent = {block.get('control_percent')} over"
                f" {_people(block)} people); no lift can be measured: raise control_percent"
                " or --persons"
            )
    out: dict[str, Any] = {}
    for name in GROUPS:
        n, c = int(block[name]["persons"]), int(block[name]["converted"])
        low, high = wilson(c, n)
        out[name] = {
            "persons": n,
            "converted": c,
            "rate": round(rate(c, n), 6),
            "ci_low": round(low, 6),
            "ci_high": round(high, 6),
        }
    diff, low, high = newcombe(
        int(treated["converted"]), int(treated["persons"]),
        int(held["converted"]), int(held["persons"]),
    )  # fmt: skip
    out["lift"] = round(diff, 6)
    out["lift_ci_low"] = round(low, 6)
    out["lift_ci_high"] = round(high, 6)
    return out


def _people(block: Mapping[str, Any]) -> int:
    groups = sum(int(block[g]["persons"]) for g in GROUPS)
    return groups + int(block.get("split", 0)) + int(block.get("unseen", 0))


def programme_summary(block: Mapping[str, Any], control_percent: float) -> dict[str, Any]:
    """``summary.json`` ``messaging.programme``: the merged counts plus ``lift``, or
    ``lift: null`` and the ``problem`` when a group is empty (a run never fails on it)."""
    out = dict(block) | {"control_percent": control_percent}
    try:
        out["lift"] = programme_lift(out, "[programme]")
    except HopsimError as exc:
        out["lift"], out["problem"] = None, str(exc)
    return out


def pooled_programme(blocks: Sequence[Mapping[str, Any]], where: str) -> dict[str, Any]:
    """Several replicates' ``messaging.programme`` blocks, added up, with their lift."""
    total: dict[str, Any] = {g: {"persons": 0, "converted": 0, "messaged": 0} for g in GROUPS}
    total |= {"split": 0, "unseen": 0, "control_percent": blocks[0].get("control_percent")}
    for block in blocks:
        for g in GROUPS:
            for key in ("persons", "converted", "messaged"):
                total[g][key] += int(block[g].get(key, 0))
        total["split"] += int(block.get("split", 0))
        total["unseen"] += int(block.get("unseen", 0))
    return total | {"lift": programme_lift(total, where)}


# -- cannibalisation ---------------------------------------------------------------


@dataclass
class JourneyCredit:
    """One run's journey moves per true person: who entered, who was credited a conversion."""

    entered: dict[str, set[str]] = field(default_factory=dict)  # journey -> persons
    credited: dict[str, set[str]] = field(default_factory=dict)  # journey -> persons


def read_credit(folder: Path) -> JourneyCredit:
    """Entries and goal credits per journey and true person, from ``journey_steps.jsonl``."""
    from sim.analysis.compare_designs import profile_people
    from sim.trace.reader import read_optional_jsonl

    truth = list(read_optional_jsonl(folder / "truth.jsonl.gz"))
    places = profile_people(folder, list(read_optional_jsonl(folder / "messages.jsonl")), truth)
    credit = JourneyCredit()
    for row in read_optional_jsonl(folder / "journey_steps.jsonl"):
        who = places.get(str(row["profile_id"]))
        if who is None:
            continue
        journey = str(row["journey"])
        if row["event"] == "entered":
            credit.entered.setdefault(journey, set()).add(who)
        elif row["event"] == "converted":
            credit.credited.setdefault(journey, set()).add(who)
    return credit


def cannibalisation(
    journeys: Sequence[str],
    both: Sequence[JourneyCredit],
    without: Mapping[str, Sequence[JourneyCredit]],
) -> list[dict[str, Any]]:
    """For every ordered pair (A, B): A's credit among people who entered both, with and
    without B. ``both``: one run per replicate with every journey; ``without[B]``: the
    same seeds with journey B switched off."""
    rows = []
    for a in journeys:
        for b in journeys:
            if a == b:
                continue
            pairs: list[int] = []
            alone = together = 0
            for full, lone in zip(both, without[b], strict=True):
                overlap = sorted(full.entered.get(a, set()) & full.entered.get(b, set()))
                for who in overlap:
                    x = int(who in lone.credited.get(a, set()))
                    y = int(who in full.credited.get(a, set()))
                    alone, together = alone + x, together + y
                    pairs.append(x - y)
            mean, low, high = paired_lift(pairs)
            rows.append(
                {
                    "journey": a,
                    "other": b,
                    "overlap": len(pairs),
                    "credited_without_other": alone,
                    "credited_with_other": together,
                    "cannibalised": round(mean, 6),
                    "ci_low": round(low, 6),
                    "ci_high": round(high, 6),
                    "share_of_credit": round((alone - together) / alone, 6) if alone else None,
                }
            )
    return rows


def attribution(
    journeys: Sequence[str], both: Sequence[JourneyCredit], designs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Per journey: the people its goal attribution credits when everything runs, against
    the conversions it adds (``all`` minus ``without-<journey>``, paired per person).

    Credit far above the increment is the other face of cannibalisation: orders
    that would have come anyway, often claimed by two journeys at once
    (``credited_by_another``: credited people some other journey credits too).
    """
    rows = []
    for name in journeys:
        credited = sum(len(run.credited.get(name, set())) for run in both)
        shared = sum(
            len(
                run.credited.get(name, set())
                & set().union(*(v for k, v in run.credited.items() if k != name))
            )
            for run in both
        )
        row = designs[f"without-{name}"]
        pair = row["lift_paired"]
        rows.append(
            {
                "journey": name,
                "credited": credited,
                "credited_by_another": shared,
                "incremental": designs["all"]["conversions"] - row["conversions"],
                "incremental_rate": round(-pair["mean"], 6) + 0.0,  # + 0.0: no "-0.0"
                "incremental_ci_low": round(-pair["ci_high"], 6) + 0.0,
                "incremental_ci_high": round(-pair["ci_low"], 6) + 0.0,
            }
        )
    return rows


def drop_journey(journeys: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The ``[[journeys]]`` tables without journey ``name``."""
    return [j for j in journeys if j.get("name") != name]


def guard_pairs(names: Sequence[str], where: str) -> None:
    """Cannibalisation needs two journeys or more: a clear error otherwise."""
    if len(names) < 2:
        raise HopsimError(
            f"{where}: --cannibalisation needs two or more [[journeys]] (found"
            f" {len(names)}: {', '.join(names) or 'none'})"
        )
