"""Experiment variants with confidence intervals, from compare.json or summary.json.

Any object holding ``n`` and ``conversions`` is a variant; its name is its
``variant``/``name`` key or the key it sits under, its campaign the nearest
``campaign`` key or enclosing key. Missing intervals are Wilson 95% intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sim.analysis.compare import pp_interval, wilson
from sim.report.readers import JsonObject

CONTROL_NAMES = ("control", "holdout", "control group")
UNNAMED = "experiment"


@dataclass(frozen=True)
class VariantResult:
    """One arm of an experiment as measured: its audience, conversions and interval.

    Not the campaign's declared arm (``sim.engine.messaging.config.Variant``,
    a share and a message): this is what came of it.
    """

    campaign: str
    name: str
    n: int
    conversions: int
    rate: float
    low: float
    high: float
    control: bool | None = None

    @property
    def is_control(self) -> bool:
        if self.control is not None:
            return self.control
        return self.name.lower() in CONTROL_NAMES


def variants(compare: JsonObject | None, summary: JsonObject | None) -> list[VariantResult]:
    """Variants from compare.json, else summary ``experiments`` or ``messaging.experiments``."""
    if compare:
        found = _walk(compare, "", "")
        default = compare.get("campaign") or compare.get("scenario")
        if found and isinstance(default, str):
            found = [replace(v, campaign=default) if v.campaign == UNNAMED else v for v in found]
        if found:
            return found
    summary = summary or {}
    messaging = summary.get("messaging")
    for block in (
        summary.get("experiments"),
        isinstance(messaging, dict) and messaging.get("experiments"),
    ):
        found = _walk(block, "", "") if block else []
        if found:
            return found
    return []


def _walk(node: Any, key: str, campaign: str) -> list[VariantResult]:
    if isinstance(node, list):
        return [v for item in node for v in _walk(item, key, campaign)]
    if not isinstance(node, dict):
        return []
    if isinstance(node.get("campaign"), str):
        campaign = node["campaign"]
    if _is_variant(node):
        return [_variant(node, key, campaign)]
    found = []
    for child_key, child in node.items():
        nested_campaign = campaign
        if child_key not in ("variants", "results", "experiments", "campaigns") and not campaign:
            nested_campaign = child_key if not _is_variant(child) else campaign
        found += _walk(child, child_key, nested_campaign)
    return found


def _is_variant(node: Any) -> bool:
    return (
        isinstance(node, dict)
        and isinstance(node.get("n"), int | float)
        and isinstance(node.get("conversions"), int | float)
    )


def _variant(node: JsonObject, key: str, campaign: str) -> VariantResult:
    n, conversions = int(node["n"]), int(node["conversions"])
    name = str(node.get("variant") or node.get("name") or key or "?")
    rate = node.get("conversion_rate", node.get("rate"))
    rate = float(rate) if isinstance(rate, int | float) else (conversions / n if n else 0.0)
    low, high = node.get("ci_low"), node.get("ci_high")
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        low, high = wilson(conversions, n)
    control = node.get("control")
    return VariantResult(
        campaign or UNNAMED,
        name,
        n,
        conversions,
        rate,
        float(low),
        float(high),
        control if isinstance(control, bool) else None,
    )


def programme_row(name: str, block: Any) -> tuple[str, str] | None:
    """One line for a ``[programme]`` global control block (summary or compare.json)."""
    if not isinstance(block, dict):
        return None
    if block.get("problem"):
        return name, str(block["problem"])
    lift = block.get("lift")
    if not isinstance(lift, dict):
        return None
    treated, held = lift.get("treated") or {}, lift.get("held_out") or {}
    return (
        name,
        f"{pp_interval(lift.get('lift'), lift.get('lift_ci_low'), lift.get('lift_ci_high'))}"
        f" (treated {treated.get('converted')}/{treated.get('persons')}, held out"
        f" {held.get('converted')}/{held.get('persons')} ordered)",
    )


def compare_rows(compare: JsonObject | None) -> list[tuple[str, str]]:
    """The design compare's lines: paired lift per design, programme lift, cannibalisation."""
    if not compare or not isinstance(compare.get("designs"), dict):
        return []
    rows: list[tuple[str, str]] = []
    for name, row in compare["designs"].items():
        if not isinstance(row, dict) or row.get("baseline"):
            continue
        pair = row.get("lift_paired") or {}
        rows.append(
            (
                f"design {name}: paired lift vs the baseline",
                f"{pp_interval(pair.get('mean'), pair.get('ci_low'), pair.get('ci_high'))};"
                f" {row.get('sent')} sent, {row.get('messages_per_converted')} per converted",
            )
        )
    for name, block in (compare.get("programme") or {}).items():
        line = programme_row(f"programme lift ({name})", block)
        if line is not None:
            rows.append(line)
    for item in compare.get("cannibalisation") or []:
        rows.append(
            (
                f"cannibalisation of {item['journey']} by {item['other']}",
                f"{pp_interval(item['cannibalised'], item['ci_low'], item['ci_high'])} of"
                f" {item['overlap']} people in both",
            )
        )
    return rows
