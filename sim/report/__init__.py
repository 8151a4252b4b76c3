"""The report: a run folder's files -> tables -> figures -> one self-contained report.html.

``build_report(run_dir)`` is what ``hopsim report``, ``run``, ``compare`` and
``loadtest`` call at the end. Every input file is optional.
"""

from __future__ import annotations

from pathlib import Path

REPORT_FILE = "report.html"


def build_report(run_dir: Path) -> Path:
    """Write ``run_dir/report.html`` from whatever the folder holds; return its path."""
    from sim.report.headline import headline_groups
    from sim.report.html import write_html
    from sim.report.programs import section as journey_section
    from sim.report.readers import ReportInputError
    from sim.report.sections import build_sections
    from sim.report.tables import collect, thresholds

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportInputError(f"{run_dir}: not a run folder (no such directory)")
    tables = collect(run_dir)
    summary = tables.summary or {}
    title = f"hopsim report: {summary.get('scenario') or run_dir.name}"
    return write_html(
        run_dir / REPORT_FILE,
        title,
        headline_groups(tables),
        thresholds(tables),
        [*build_sections(tables), journey_section(tables)],
    )


__all__ = ["REPORT_FILE", "build_report"]
