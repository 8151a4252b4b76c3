"""What ``hopsim score`` shows: a plain-text table, and a one-section ``score.html``.

The page reuses the run report's pieces (the stitching table reader, the
stitching figure, the HTML shell), so an external graph's scores read exactly
like the run's own "Identity stitching" section.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sim.report.tables as t
from sim.report.figures import engine
from sim.report.headline import fmt
from sim.report.html import write_html
from sim.report.sections import Panel, Section

COLUMNS = (
    ("pairwise_precision", "pair P"),
    ("pairwise_recall", "pair R"),
    ("f05", "F0.5"),
    ("bcubed_precision", "B3 P"),
    ("bcubed_recall", "B3 R"),
    ("bcubed_f1", "B3 F1"),
)


def metric_blocks(block: Any, name: str = "overall", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Every nested block that carries scores, labelled by its dotted path."""
    if not isinstance(block, dict):
        return
    if "f05" in block:
        yield name, block
    if depth >= 3:
        return
    for key, value in block.items():
        label = key if name == "overall" else f"{name}.{key}"
        yield from metric_blocks(value, label, depth + 1)


def score_lines(result: dict[str, Any]) -> list[str]:
    """The printed table: one row per scored view, then what the source left out."""
    head = f"{'view':<34}" + "".join(f"{label:>9}" for _, label in COLUMNS)
    lines = [f"{result['source']} ({result['shape']})", head]
    for name, block in metric_blocks(result["stitching"]):
        cells = "".join(
            f"{block[k]:>9.3f}" if isinstance(block.get(k), int | float) else f"{'':>9}"
            for k, _ in COLUMNS
        )
        lines.append(f"{name:<34}{cells}")
    lines += [f"  {k}: {fmt(v)}" for k, v in result["coverage"].items() if not isinstance(v, dict)]
    unknown = result["coverage"].get("unknown_identifiers_by_type") or {}
    if unknown:
        lines.append("  unknown by type: " + ", ".join(f"{k} {v:,}" for k, v in unknown.items()))
    return lines


def write_score_page(run_dir: Path, result: dict[str, Any]) -> Path:
    """``RUN_DIR/score.html``: the source's stitching section beside its coverage."""
    block = result["stitching"]
    section = Section("stitching", f"Identity stitching of {result['source']}")
    table = t.stitching({"stitching": block})
    if table is not None:
        guide = (
            "Scores of the external identity graph, computed by the same functions as the "
            "run's own stitching block. Dots further right are better (1.0 is perfect)."
        )
        section.panels.append(Panel(engine.stitching_figure(table), guide))
        section.rows = [(k, fmt(v)) for k, v in table.extras.items()]
    coverage = [(k, fmt(v)) for k, v in result["coverage"].items() if not isinstance(v, dict)]
    headline = {
        "What was scored": [("source", str(result["source"])), ("shape", str(result["shape"]))],
        "Key numbers": [
            (f"{name} {label}", fmt(scores[k]))
            for name, scores in metric_blocks(block)
            if "by_rule" not in name
            for k, label in (("f05", "F0.5"), ("bcubed_f1", "B-cubed F1"))
            if k in scores
        ],
        "Coverage": coverage,
    }
    return write_html(run_dir / "score.html", "hopsim score", headline, [], [section])
