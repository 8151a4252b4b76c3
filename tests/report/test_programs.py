"""The journey flow diagrams: columns follow the arrows people took; no journeys, no section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.report import build_report
from sim.report.programs import columns, describe, section
from sim.report.tables import Tables


def step(
    kind: str, entered: int, advanced: dict[str, int] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"kind": kind, "entered": entered, "advanced": advanced or {}, "exited": {},
            "converted_after": 0} | extra  # fmt: skip


STEPS = {
    "hour": step("wait", 10, {"push": 8}, exited={"goal": 2}),
    "push": step(
        "message",
        8,
        {"(end)": 8},
        sent=5,
        suppressed={"no_consent": 3},
        devices_sent={"phone": 5},
        opened=2,
        clicked=1,
    ),
    "never": step("message", 0),
}


def test_columns_follow_the_arrows_and_unreached_go_last() -> None:
    assert columns(STEPS) == [["hour"], ["push"], ["never"]]


def test_box_text_has_the_counts() -> None:
    text = "\n".join(describe(STEPS["push"]))
    for needle in ("entered 8", "sent 5, suppressed 3", "no_consent 3", "on phone 5",
                   "opened 2, clicked 1", "ended 8"):  # fmt: skip
        assert needle in text


def test_section_draws_one_diagram_per_journey(tmp_path: Path) -> None:
    tables = Tables(run_dir=tmp_path)
    assert section(tables).panels == []
    tables.summary = {"journey_programs": {"cart": {"entered": 10, "converted": 2,
                      "seconds_to_conversion": 7200, "steps": STEPS}}}  # fmt: skip
    built = section(tables)
    assert len(built.panels) == 1
    assert built.rows == [("cart", "2 of 10 runs converted, mean 1.0 h to convert")]


def test_report_of_a_journey_run_shows_the_flow(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(
        '{"journey_programs": {"cart": {"entered": 1, "converted": 0, "steps": '
        '{"a": {"kind": "exit", "entered": 1, "advanced": {}, "exited": {"end": 1}}}}}}'
    )
    page = build_report(tmp_path).read_text(encoding="utf-8")
    assert 'id="journey-programs"' in page and "cart" in page
