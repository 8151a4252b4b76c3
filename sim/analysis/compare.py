"""Statistics of ``hopsim compare``: arms of one experiment side by side, with intervals.

Picture a clinical trial where every patient is cloned once per arm: the same
students, the same timetables, the same dice for everything except the
message. ``hopsim compare`` runs the scenario once per variant and replicate
seed, with every eligible profile forced into that variant, and hands the
counts of each run (an :class:`Arm`) to the pure functions here:

- a conversion rate with its 95% Wilson score interval per variant;
- the lift against the control arm as a difference of proportions with
  Newcombe's hybrid score interval (pooled over replicates);
- a paired lift: the per-replicate differences (arms of one replicate share
  their population), averaged, with a Student t interval across replicates;
- funnel drop-off per stage and the most common journeys ending in an order.

The unit is the *exposure*: one profile entering the campaign and reaching the
variant decision (a daily campaign exposes a profile once a day). Conversions
are exposures followed by the goal event within the goal window.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Z95 = 1.959963984540054
# Two-sided 95% Student t quantiles (0.975) for 1..30 degrees of freedom.
T975: tuple[float, ...] = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
STAGES: tuple[str, ...] = ("awareness", "consideration", "purchase", "retention", "advocacy")


@dataclass
class Arm:
    """What one run (one variant, one replicate seed) counted for one campaign."""

    variant: str
    replicate: int
    seed: int
    folder: str = ""
    n: int = 0  # exposures
    conversions: int = 0
    sent: int = 0
    opened: int = 0
    bad_context: int = 0
    opt_outs: int = 0
    funnel: Counter[str] = field(default_factory=Counter)
    journeys: Counter[tuple[str, ...]] = field(default_factory=Counter)


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of ``successes`` out of ``n`` (``(0, 0)`` when ``n`` is 0)."""
    if n <= 0:
        return 0.0, 0.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(
    successes: int, n: int, base_successes: int, base_n: int, z: float = Z95
) -> tuple[float, float, float]:
    """Difference ``p - p_base`` with Newcombe's hybrid score (method 10) 95% interval.

    Built from the two Wilson intervals, so it behaves at 0 or 100% where the
    Wald interval collapses. Assumes independent samples: with common random
    numbers the arms are positively correlated, which makes it conservative.
    """
    if n <= 0 or base_n <= 0:
        return 0.0, 0.0, 0.0
    p, q = successes / n, base_successes / base_n
    low1, high1 = wilson(successes, n, z)
    low0, high0 = wilson(base_successes, base_n, z)
    diff = p - q
    low = diff - math.sqrt((p - low1) ** 2 + (high0 - q) ** 2)
    high = diff + math.sqrt((high1 - p) ** 2 + (q - low0) ** 2)
    return diff, low, high


def t_quantile(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("t_quantile: df must be >= 1")
    return T975[df - 1] if df <= len(T975) else Z95


def paired(differences: Sequence[float]) -> tuple[float, float, float] | None:
    """Mean of per-replicate differences with a t interval; ``None`` below two replicates."""
    k = len(differences)
    if k < 2:
        return None
    mean = sum(differences) / k
    variance = sum((d - mean) ** 2 for d in differences) / (k - 1)
    half = t_quantile(k - 1) * math.sqrt(variance / k)
    return mean, mean - half, mean + half


def rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def pp_interval(mid: Any, low: Any, high: Any) -> str:
    """A difference of proportions and its interval in percentage points,
    ``+1.25 pp [-0.40, +2.90]``; ``-`` when any of the three is not a number."""
    if not all(isinstance(x, int | float) for x in (mid, low, high)):
        return "-"
    return f"{mid * 100:+.2f} pp [{low * 100:+.2f}, {high * 100:+.2f}]"


def rate_interval(row: Mapping[str, Any], name: str, decimals: int = 2) -> str:
    """``row[name]`` with its ``_ci_low`` / ``_ci_high`` as percentages, ``12.50% [9.10%, 16.80%]``;
    ``-`` when any of the three is missing."""
    value, low, high = row.get(name), row.get(f"{name}_ci_low"), row.get(f"{name}_ci_high")
    if value is None or low is None or high is None:
        return "-"
    return f"{value:.{decimals}%} [{low:.{decimals}%}, {high:.{decimals}%}]"


def funnel_dropoff(counts: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """Per stage: people reached, share of the stage before, share lost since it."""
    out: dict[str, dict[str, Any]] = {}
    previous: int | None = None
    for stage in [*STAGES, *(s for s in counts if s not in STAGES)]:
        if stage not in counts:
            continue
        count = int(counts[stage])
        kept = None if previous is None else round(rate(count, previous), 4)
        dropped = None if kept is None else round(1.0 - kept, 4)
        out[stage] = {"count": count, "of_previous": kept, "dropped": dropped}
        previous = count
    return out


def top_journeys(paths: Counter[tuple[str, ...]], limit: int = 3) -> list[dict[str, Any]]:
    """The ``limit`` most common paths ending in an order, ties broken alphabetically."""
    total = sum(paths.values())
    ranked = sorted(paths.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [
        {"path": list(path), "orders": count, "share": round(rate(count, total), 4)}
        for path, count in ranked
    ]


def with_touchpoints(
    trail: Sequence[str], clicks: Iterable[tuple[float, str]], since: float, until: float
) -> tuple[str, ...]:
    """An order's device trail, preceded by the message clicks in ``(since, until]``.

    Trail steps carry no times, so the clicks (``push:click``) are placed in
    front in time order; a click leads into a session, so in front is where
    most belong. Consecutive repeats collapse like the trail's own steps.
    """
    steps = [step for at, step in sorted(clicks) if since < at <= until]
    out: list[str] = []
    for step in [*steps, *trail]:
        if not out or out[-1] != step:
            out.append(step)
    return tuple(out)


def variant_row(arms: Sequence[Arm], base: Sequence[Arm] | None, control: bool) -> dict[str, Any]:
    """One variant's line of compare.json, pooled over replicates, lift against ``base``."""
    n = sum(a.n for a in arms)
    conversions = sum(a.conversions for a in arms)
    sent = sum(a.sent for a in arms)
    opened = min(n, sum(a.opened for a in arms))
    bad = sum(a.bad_context for a in arms)
    opt_outs = sum(a.opt_outs for a in arms)
    low, high = wilson(conversions, n)
    row: dict[str, Any] = {
        "variant": arms[0].variant,
        "control": control,
        "n": n,
        "conversions": conversions,
        "conversion_rate": round(rate(conversions, n), 6),
        "ci_low": round(low, 6),
        "ci_high": round(high, 6),
        "sent": sent,
        "opened": opened,
        "open_rate": round(rate(opened, n), 6),
        "opt_outs": opt_outs,
        "opt_out_rate": round(rate(opt_outs, n), 6),
        "bad_context": bad,
        "bad_context_rate": round(rate(bad, sent), 6),
        "messages_per_converted": round(sent / conversions, 3) if conversions else None,
    }
    row |= lifts(arms, base)
    funnel: Counter[str] = Counter()
    journeys: Counter[tuple[str, ...]] = Counter()
    for arm in arms:
        funnel.update(arm.funnel)
        journeys.update(arm.journeys)
    row["funnel"] = funnel_dropoff(funnel)
    row["top_journeys"] = top_journeys(journeys)
    row["replicates"] = [
        {
            "replicate": a.replicate,
            "seed": a.seed,
            "folder": a.folder,
            "exposures": a.n,
            "converted": a.conversions,
            "rate": round(rate(a.conversions, a.n), 6),
        }
        for a in arms
    ]
    return row


def lifts(arms: Sequence[Arm], base: Sequence[Arm] | None) -> dict[str, Any]:
    """Conversion and open lift against the base arms: pooled Newcombe, and paired."""
    if base is None:
        return {
            "lift_vs_control": None,
            "lift_ci_low": None,
            "lift_ci_high": None,
            "lift_paired": None,
            "open_lift": None,
        }
    n, c = sum(a.n for a in arms), sum(a.conversions for a in arms)
    bn, bc = sum(a.n for a in base), sum(a.conversions for a in base)
    diff, low, high = newcombe(c, n, bc, bn)
    opened = min(n, sum(a.opened for a in arms))
    base_opened = min(bn, sum(a.opened for a in base))
    open_diff, open_low, open_high = newcombe(opened, n, base_opened, bn)
    by_seed = {a.seed: a for a in base}
    diffs = [
        rate(a.conversions, a.n) - rate(by_seed[a.seed].conversions, by_seed[a.seed].n)
        for a in arms
        if a.seed in by_seed
    ]
    pair = paired(diffs)
    return {
        "lift_vs_control": round(diff, 6),
        "lift_ci_low": round(low, 6),
        "lift_ci_high": round(high, 6),
        "lift_paired": None
        if pair is None
        else {
            "mean": round(pair[0], 6),
            "ci_low": round(pair[1], 6),
            "ci_high": round(pair[2], 6),
            "replicates": len(diffs),
        },
        "open_lift": {
            "diff": round(open_diff, 6),
            "ci_low": round(open_low, 6),
            "ci_high": round(open_high, 6),
        },
    }


def campaign_block(
    name: str, order: Sequence[tuple[str, bool]], arms: Mapping[str, Sequence[Arm]]
) -> dict[str, Any]:
    """A campaign's block: variants in declared order, lift against the control arm.

    ``order`` lists ``(variant, is_control)``. Without a control variant the
    first declared variant is the baseline (named in ``baseline``).
    """
    baseline = next((v for v, is_control in order if is_control), order[0][0])
    base = arms[baseline]
    variants = {
        variant: variant_row(arms[variant], None if variant == baseline else base, is_control)
        for variant, is_control in order
    }
    has_control = any(is_control for _, is_control in order)
    return {
        "campaign": name,
        "baseline": baseline,
        "has_control": has_control,
        "variants": variants,
    }
