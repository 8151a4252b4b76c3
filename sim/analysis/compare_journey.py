"""The journey metrics of ``hopsim compare``: each variant's sessions and messages, pooled.

Did the optimised send time make sessions shorter, or bounces more frequent?
Each arm's run writes its ``journey_metrics`` block (docs/metrics.md); this
module pools one variant's blocks over its replicates (counts add up, means
are weighted by sessions) and puts a 95% Wilson score interval on every
proportion: bounce rate (bounces / sessions with views), open rate and CTR
(opened or clicked / delivered). Means (views and time per session) get no
interval. Sessions of one person are not independent draws, so the bounce
interval is a little narrower than a person-level bootstrap would be.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sim.analysis.compare import rate_interval, wilson

CUTS = ("by_device", "by_channel")


def journey_comparison(blocks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One variant's journey metrics, pooled over its replicates' summary blocks."""
    blocks = [b for b in blocks if b]
    if not blocks:
        return {}
    out: dict[str, Any] = {"overall": pooled(b.get("overall") or {} for b in blocks)}
    for cut in CUTS:
        names = sorted({name for b in blocks for name in b.get(cut) or {}})
        out[cut] = {
            name: pooled((b.get(cut) or {}).get(name) or {} for b in blocks) for name in names
        }
    return out


def pooled(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Add up one cut's rows; rates with their Wilson intervals."""
    rows = list(rows)
    sessions = _sum(rows, "sessions")
    with_views = _sum(rows, "sessions_with_views")
    bounces = _sum(rows, "bounces")
    views = _sum(rows, "views")
    seconds = sum(
        float(r.get("time_per_session_s") or 0.0) * int(r.get("sessions") or 0) for r in rows
    )
    messages = [r.get("messages") or {} for r in rows]
    delivered = _sum(messages, "delivered")
    opened = _sum(messages, "opened")
    clicked = _sum(messages, "clicked")
    return {
        "sessions": sessions,
        "views_per_session": round(views / sessions, 4) if sessions else None,
        "time_per_session_s": round(seconds / sessions, 1) if sessions else None,
        **_proportion("bounce_rate", bounces, with_views),
        "delivered": delivered,
        "opened": opened,
        "clicked": clicked,
        "conversions": _sum(messages, "conversions"),
        "opt_outs": _sum(messages, "opt_outs"),
        **_proportion("open_rate", opened, delivered),
        **_proportion("ctr", clicked, delivered),
    }


def _sum(rows: Iterable[Mapping[str, Any]], key: str) -> int:
    return sum(int(r.get(key) or 0) for r in rows)


def _proportion(name: str, part: int, whole: int) -> dict[str, Any]:
    if not whole:
        return {name: None, f"{name}_ci_low": None, f"{name}_ci_high": None}
    low, high = wilson(part, whole)
    return {
        name: round(part / whole, 6),
        f"{name}_ci_low": round(low, 6),
        f"{name}_ci_high": round(high, 6),
    }


def journey_table_rows(variants: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """Printable rows: variant, sessions, bounce [CI], views/session, time/session, CTR [CI]."""
    rows: list[tuple[str, ...]] = []
    for variant, row in variants.items():
        overall = (row.get("journey_metrics") or {}).get("overall")
        if not overall:
            continue
        views = overall["views_per_session"]
        time_s = overall["time_per_session_s"]
        rows.append(
            (
                variant,
                f"{overall['sessions']:,}",
                rate_interval(overall, "bounce_rate", 1),
                "-" if views is None else f"{views:.2f}",
                "-" if time_s is None else f"{time_s / 60:.1f} min",
                rate_interval(overall, "ctr", 1),
            )
        )
    return rows
