"""Two journey designs on one population: who each reached, and who converted after.

Picture two copies of the same town on the same week: in one the shop runs
the three-message abandoned-cart journey, in the other the single reminder.
Every person, every cart and every die is the same in both until a message
changes what someone does (common random numbers, docs/compare.md). So the
fair unit is the *person*, and the fair comparison is person by person:

- **reached** (one replicate): every true person the messaging engine decided
  about (a message sent, or suppressed for any reason, control included) in
  *any* design's run. The set is the same for every design, so no design is
  judged on a crowd of its own choosing.
- **converted**: the person did the designs' common goal event at or after
  their first decision in any design (before that moment the copies of the
  town are identical, so earlier goals could not differ anyway), up to the
  end of the run.
- **lift** against the baseline (the first design): the pooled difference of
  proportions with Newcombe's interval, and the *paired* difference: the mean
  over (replicate, person) of ``converted here - converted in the baseline``,
  with a normal 95% interval. A design that changes nothing for anybody has
  every paired difference 0, so its paired interval is exactly ``[0, 0]``.
- per design: messages sent per converted person, opt-outs (people who
  unsubscribed or withdrew push after a message, Wilson interval per reached
  person) and bad-context deliveries (Wilson interval per sent message).

Which run folder is which person comes from the run's own tables: the truth
file owns devices; a decision without a device (suppressed before routing)
is placed by its profile id, a hash of the identifier that started the
profile (whose device, anonymous id or login it was), else through the
profile's devices (``profiles.jsonl``) or another decision of the profile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from sim.analysis.compare import newcombe, pp_interval, rate, rate_interval, wilson
from sim.analysis.figures import mean_interval
from sim.errors import HopsimError
from sim.trace.clock import epoch_seconds
from sim.trace.reader import read_optional_jsonl

if TYPE_CHECKING:
    from sim.trace.truth import Owners
    from sim.world.scenario import Scenario

# Scenario fields that make the population (field, TOML key): designs may differ
# only in [[campaigns]], [[journeys]], [programme], name and description.
POPULATION: tuple[tuple[str, str], ...] = (
    ("seed", "seed"),
    ("days", "days"),
    ("start", "start"),
    ("persons", "persons"),
    ("personas", "personas"),
    ("households", "households"),
    ("people", "people"),
    ("locales", "locales"),
    ("network", "network"),
    ("partner_device_use", "behaviour.partner_device_use"),
    ("cookie_reset_per_day", "behaviour.cookie_reset_per_day"),
    ("brand", "brand.category"),
    ("identity", "identity"),
)

Goal = tuple[str, tuple[tuple[str, Any], ...]]  # event name, required properties


def same_population(designs: Sequence[Scenario]) -> None:
    """Raise :class:`HopsimError` naming the file and key where a design's population
    differs from the first design's (after ``--persons/--days/--seed``)."""
    first = designs[0]
    for other in designs[1:]:
        for name, key in POPULATION:
            if getattr(other, name) != getattr(first, name):
                raise HopsimError(
                    f"{other.path}: {key} differs from {first.path}; designs compared on one"
                    " population may differ only in [[campaigns]], [[journeys]] and [programme]"
                )


def goals(scenario: Scenario) -> list[tuple[str, Goal]]:
    """Every ``goal`` a design declares, as (TOML key, goal)."""
    found: list[tuple[str, Goal]] = []
    for kind in ("campaigns", "journeys"):
        for i, table in enumerate(getattr(scenario, kind)):
            goal = table.get("goal")
            if isinstance(goal, dict) and goal.get("event"):
                props = goal.get("properties") or {}
                key = f"{kind}[{i}] ({table.get('name', '?')}).goal"
                found.append((key, (str(goal["event"]), tuple(sorted(props.items())))))
    return found


def common_goal(designs: Sequence[Scenario]) -> Goal:
    """The one conversion goal every design is judged on.

    Designs without a goal (a file with no messaging at all is a fine
    "send nothing" baseline) adopt it; two different goals, or none at all,
    leave nothing comparable: a :class:`HopsimError` naming file and key.
    """
    chosen: tuple[Path, str, Goal] | None = None
    for scenario in designs:
        for key, goal in goals(scenario):
            if chosen is None:
                chosen = (scenario.path, key, goal)
            elif goal != chosen[2]:
                raise HopsimError(
                    f"{scenario.path}: {key} is {_goal_text(goal)}, but {chosen[0]}: {chosen[1]}"
                    f" is {_goal_text(chosen[2])}; designs are compared on one conversion goal"
                )
    if chosen is None:
        names = ", ".join(str(s.path) for s in designs)
        raise HopsimError(
            f"{names}: no [[campaigns]] or [[journeys]] declares a goal (goal = {{ event = ... }});"
            " there is no conversion to compare"
        )
    return chosen[2]


def _goal_text(goal: Goal) -> str:
    event, props = goal
    return event + (f" {dict(props)}" if props else "")


@dataclass
class Outcome:
    """What one design's run did to each true person (one replicate)."""

    design: str
    folder: str
    reached: dict[str, float] = field(default_factory=dict)  # person -> first decision (s)
    goals: dict[str, list[float]] = field(default_factory=dict)  # person -> goal times (s)
    opted_out: set[str] = field(default_factory=set)
    sent: int = 0
    bad_context: int = 0
    unplaced: int = 0  # decisions whose profile no device places on a person


def read_outcome(folder: Path, design: str, goal: Goal, root: Path) -> Outcome:
    """One run folder's :class:`Outcome`: decisions, goals and opt-outs per true person."""
    from sim.trace.truth import owners_of_rows

    out = Outcome(design, str(folder.relative_to(root)))
    truth = list(read_optional_jsonl(folder / "truth.jsonl.gz"))
    owner = owners_of_rows(truth)
    decisions = list(read_optional_jsonl(folder / "messages.jsonl"))
    places = profile_people(folder, decisions, truth)
    for row in decisions:
        device = str(row.get("device_id") or "")
        who = owner.person(device) if device else places.get(str(row["profile_id"]))
        if who is None:
            out.unplaced += 1
            continue
        at = epoch_seconds(str(row["at"]))
        out.reached[who] = min(at, out.reached.get(who, at))
    summary = orjson.loads((folder / "summary.json").read_bytes())
    messaging = summary.get("messaging") or {}
    out.sent = int(messaging.get("sent", 0))
    out.bad_context = int(messaging.get("bad_context_deliveries", 0))
    _scan_trace(folder / "trace.jsonl.gz", goal, owner, out)
    return out


def profile_people(
    folder: Path, decisions: Sequence[Mapping[str, Any]], truth: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """profile id -> true person: whose identifier started the profile, else whose devices
    the profile's decisions or ``profiles.jsonl`` name (one person only)."""
    from sim.trace.truth import owners_of_rows

    owner = owners_of_rows(truth)
    places = origin_people(truth)
    for row in decisions:
        device = str(row.get("device_id") or "")
        who = owner.person(device) if device else None
        if who is not None:
            places.setdefault(str(row["profile_id"]), who)
    for profile in read_optional_jsonl(folder / "profiles.jsonl"):
        pid = str(profile.get("profile_id"))
        if pid in places:
            continue
        people = {owner.person(str(d)) for d in profile.get("device_ids") or []} - {None}
        if len(people) == 1:
            places[pid] = str(people.pop())
    return places


def origin_people(truth: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Every profile id a person's own identifiers would start, -> that person.

    A profile's id is a hash of the identifier that created it (device id,
    anonymous id or user id: ``sim.engine.identity.state.own_id``), and it
    keeps that id when it absorbs others, so the id alone says whose it is.
    """
    from sim.engine.identity.identifiers import ANONYMOUS_ID, DEVICE_ID, USER_ID
    from sim.engine.identity.state import ProfileState, own_id

    out: dict[str, str] = {}
    for row in truth:
        person = row.get("person_id")
        if not person:
            continue
        for kind, values in (
            (DEVICE_ID, [row["device_id"]]),
            (ANONYMOUS_ID, row.get("anonymous_ids") or []),
            (USER_ID, row.get("user_ids") or []),
        ):
            for value in values:
                out[own_id(ProfileState(0, "person", (kind, str(value))))] = str(person)
    return out


def _scan_trace(trace: Path, goal: Goal, owner: Owners, out: Outcome) -> None:
    """Goal events and message opt-outs per true person, in one pass over the trace."""
    from sim.analysis.journey_metrics import is_opt_out
    from sim.trace.reader import iter_lines

    event_name, props = goal
    needle = orjson.dumps(event_name)
    for _, line in iter_lines(trace):
        if needle not in line and b'"campaign"' not in line:
            continue
        event = orjson.loads(line)
        name = event.get("event")
        properties = event.get("properties") or {}
        device = (event.get("context") or {}).get("device") or {}
        device_id = device.get("id")
        who = owner.person(None if device_id is None else str(device_id), event.get("userId"))
        if who is None:
            continue
        if name == event_name and all(properties.get(k) == v for k, v in props):
            out.goals.setdefault(who, []).append(epoch_seconds(str(event["timestamp"])))
        elif properties.get("campaign") and is_opt_out(name, properties):
            out.opted_out.add(who)


def converted(outcome: Outcome, person: str, since: float) -> bool:
    """Did ``person`` reach the goal at or after ``since`` in this design's run?"""
    return any(at >= since for at in outcome.goals.get(person, ()))


@dataclass
class Replicate:
    """One seed's designs, judged on one shared set of reached people."""

    seed: int
    outcomes: list[Outcome]

    @property
    def reached(self) -> dict[str, float]:
        """Everyone any design decided about, at the earliest such moment."""
        first: dict[str, float] = {}
        for outcome in self.outcomes:
            for who, at in outcome.reached.items():
                first[who] = min(at, first.get(who, at))
        return dict(sorted(first.items()))

    def outcomes_of(self, design: str) -> list[int]:
        """0/1 per reached person (in :attr:`reached` order): converted in ``design``."""
        outcome = next(o for o in self.outcomes if o.design == design)
        return [int(converted(outcome, who, at)) for who, at in self.reached.items()]


def paired_lift(differences: Sequence[int]) -> tuple[float, float, float]:
    """Mean of per-person differences with a normal 95% interval (``(0, 0, 0)`` when empty).

    Each (replicate, person) pair is one unit: the same person in two designs.
    With every difference 0 (a design that changes nobody) the interval is ``[0, 0]``.
    """
    if not differences:
        return 0.0, 0.0, 0.0
    values = [float(d) for d in differences]
    mean = sum(values) / len(values)
    low, high = mean_interval(values) or (mean, mean)  # one person: no spread to speak of
    return mean, low, high


def design_rows(designs: Sequence[str], replicates: Sequence[Replicate]) -> dict[str, Any]:
    """compare.json ``designs``: one row per design, lift against ``designs[0]``."""
    baseline = designs[0]
    base = [r.outcomes_of(baseline) for r in replicates]
    base_sent = sum(_of(r, baseline).sent for r in replicates)
    rows: dict[str, Any] = {}
    for design in designs:
        mine = [r.outcomes_of(design) for r in replicates]
        n = sum(len(m) for m in mine)
        conversions = sum(sum(m) for m in mine)
        base_conversions = sum(sum(b) for b in base)
        outcomes = [_of(r, design) for r in replicates]
        sent = sum(o.sent for o in outcomes)
        bad = sum(o.bad_context for o in outcomes)
        opted = sum(
            len(set(o.opted_out) & set(r.reached))
            for o, r in zip(outcomes, replicates, strict=True)
        )
        row: dict[str, Any] = {
            "design": design,
            "baseline": design == baseline,
            "control": design == baseline,  # the report's dotted line
            "n": n,
            "conversions": conversions,
            **_proportion("conversion_rate", conversions, n),
            "sent": sent,
            "messages_per_converted": round(sent / conversions, 3) if conversions else None,
            "opt_outs": opted,
            **_proportion("opt_out_rate", opted, n),
            "bad_context": bad,
            **_proportion("bad_context_rate", bad, sent),
            "unplaced_decisions": sum(o.unplaced for o in outcomes),
            "replicates": [
                {"seed": r.seed, "folder": o.folder, "reached": len(m), "converted": sum(m)}
                for r, o, m in zip(replicates, outcomes, mine, strict=True)
            ],
        }
        if design != baseline:
            diff, low, high = newcombe(conversions, n, base_conversions, n)
            pairs = [
                a - b for m, bm in zip(mine, base, strict=True) for a, b in zip(m, bm, strict=True)
            ]
            mean, p_low, p_high = paired_lift(pairs)
            extra = conversions - base_conversions
            row |= {
                "lift_vs_baseline": round(diff, 6),
                "lift_ci_low": round(low, 6),
                "lift_ci_high": round(high, 6),
                "lift_paired": {
                    "mean": round(mean, 6),
                    "ci_low": round(p_low, 6),
                    "ci_high": round(p_high, 6),
                    "pairs": len(pairs),
                    "changed": sum(1 for d in pairs if d),
                },
                "messages_per_extra_conversion": round((sent - base_sent) / extra, 3)
                if extra > 0 and sent > base_sent
                else None,
            }
        else:
            row |= {
                "lift_vs_baseline": None,
                "lift_ci_low": None,
                "lift_ci_high": None,
                "lift_paired": None,
                "messages_per_extra_conversion": None,
            }
        rows[design] = row
    return rows


def _of(replicate: Replicate, design: str) -> Outcome:
    return next(o for o in replicate.outcomes if o.design == design)


def _proportion(name: str, part: int, whole: int) -> dict[str, Any]:
    low, high = wilson(part, whole)
    return {
        name: round(rate(part, whole), 6) if whole else None,
        f"{name}_ci_low": round(low, 6) if whole else None,
        f"{name}_ci_high": round(high, 6) if whole else None,
    }


def design_table_rows(rows: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """Printable: design, reached, conv, rate [CI], lift [CI], paired lift [CI], sent,
    msgs/conv, opt-outs [CI], bad context [CI]."""
    out: list[tuple[str, ...]] = []
    for design, row in rows.items():
        pair = row["lift_paired"] or {}
        out.append(
            (
                design + (" (baseline)" if row["baseline"] else ""),
                f"{row['n']:,}",
                f"{row['conversions']:,}",
                rate_interval(row, "conversion_rate"),
                pp_interval(row["lift_vs_baseline"], row["lift_ci_low"], row["lift_ci_high"]),
                pp_interval(pair.get("mean"), pair.get("ci_low"), pair.get("ci_high")),
                f"{row['sent']:,}",
                "-"
                if row["messages_per_converted"] is None
                else f"{row['messages_per_converted']}",
                rate_interval(row, "opt_out_rate"),
                rate_interval(row, "bad_context_rate"),
            )
        )
    return out
