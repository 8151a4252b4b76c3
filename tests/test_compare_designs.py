"""``hopsim compare A.toml B.toml``: separate designs on one population, person by person,
the programme's lift against its global control group, and cannibalisation between journeys."""

from __future__ import annotations

import contextlib
import io
import json
from argparse import Namespace
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sim.analysis.compare_designs import common_goal, paired_lift, same_population
from sim.analysis.compare_programme import (
    JourneyCredit,
    attribution,
    cannibalisation,
    programme_lift,
    programme_summary,
)
from sim.cli import main
from sim.commands.compare import compare, experiments, run_designs
from sim.errors import HopsimError
from sim.report.experiments import compare_rows, programme_row
from sim.runner import Run
from sim.world.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
NONE, ONE, JOURNEY = (SCENARIOS / f"{n}.toml" for n in ("cart-none", "cart-one-message", "cart-journey-only"))  # fmt: skip
SMALL = ["--persons", "150", "--days", "2"]


def _doc(out: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((out / "compare.json").read_text())
    return doc


@pytest.fixture(scope="module")
def designs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("designs") / "cart"
    argv = ["compare", str(NONE), str(ONE), str(JOURNEY), *SMALL, "--replicates", "2"]
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        assert main([*argv, "--out", str(out)]) == 0
    (out / "printed.txt").write_text(printed.getvalue())
    return out


def test_the_table_is_printed_whole_to_a_log(designs: Path) -> None:
    """Piped to a log (CI), the table keeps whole design names and intervals, not "cart…"."""
    printed = (designs / "printed.txt").read_text()
    assert "cart-one-message" in printed and "…" not in printed


def test_every_design_is_judged_on_the_same_people(designs: Path) -> None:
    doc = _doc(designs)
    rows = doc["designs"]
    assert list(rows) == ["cart-none", "cart-one-message", "cart-journey-only"]
    assert doc["goal"] == {"event": "Order Completed", "properties": {}}
    assert len({row["n"] for row in rows.values()}) == 1 and rows["cart-none"]["n"] > 0
    base = rows["cart-none"]
    assert base["baseline"] and base["sent"] == 0 and base["lift_paired"] is None
    for name in ("cart-one-message", "cart-journey-only"):
        row = rows[name]
        assert row["sent"] > 0
        assert (
            row["conversion_rate_ci_low"]
            <= row["conversion_rate"]
            <= row["conversion_rate_ci_high"]
        )
        assert row["lift_ci_low"] <= row["lift_vs_baseline"] <= row["lift_ci_high"]
        pair = row["lift_paired"]
        assert pair["ci_low"] <= pair["mean"] <= pair["ci_high"]
        assert pair["pairs"] == row["n"]
        assert row["unplaced_decisions"] == 0  # every decision is placed on a true person
        assert (
            row["bad_context_rate_ci_low"]
            <= row["bad_context_rate"]
            <= row["bad_context_rate_ci_high"]
        )
    assert [r["seed"] for r in base["replicates"]] == [7, 8]
    assert (designs / "cart-journey-only-r1" / "summary.json").exists()
    assert (designs / "report.html").exists()
    html = (designs / "report.html").read_text()
    assert "design cart-journey-only: paired lift vs the baseline" in html


def test_a_design_that_sends_nothing_has_a_zero_lift(tmp_path: Path) -> None:
    """A campaign whose every exposure is control reaches people but sends nothing: person by
    person nothing changes, so the paired lift is exactly 0 [0, 0]."""
    one = load_scenario(ONE).with_overrides(150, 2)
    variants = [
        {"name": "reminder", "share": 0},
        {"name": "control", "share": 100, "control": True},
    ]
    campaign = dict(one.campaigns[0], variants=variants)
    silent = replace(one, name="cart-all-control", campaigns=[campaign])
    args = Namespace(cannibalisation=False, replicates=1, workers=1, no_report=True)
    out = tmp_path / "silent"
    assert run_designs([load_scenario(NONE).with_overrides(150, 2), silent], args, out) == 0
    row = _doc(out)["designs"]["cart-all-control"]
    assert row["sent"] == 0 and row["n"] > 0
    assert row["lift_paired"] == {
        "mean": 0.0, "ci_low": 0.0, "ci_high": 0.0, "pairs": row["n"], "changed": 0
    }  # fmt: skip
    assert row["lift_vs_baseline"] == 0.0 and row["lift_ci_low"] < 0.0 < row["lift_ci_high"]


def test_paired_lift_of_no_change_and_of_a_change() -> None:
    assert paired_lift([]) == (0.0, 0.0, 0.0)
    assert paired_lift([0] * 50) == (0.0, 0.0, 0.0)
    mean, low, high = paired_lift([1] * 10 + [0] * 90)
    # sd = sqrt(9 / 99), half width = 1.96 * sd / sqrt(100) = 0.059095
    assert mean == pytest.approx(0.1)
    assert (low, high) == pytest.approx((0.1 - 0.059095, 0.1 + 0.059095), abs=1e-6)
    assert paired_lift([1]) == (1.0, 1.0, 1.0)  # one pair: no spread, no width


def test_different_populations_name_the_file_and_key() -> None:
    first, other = load_scenario(NONE), load_scenario(SCENARIOS / "population.toml")
    with pytest.raises(HopsimError, match=r"population\.toml: days differs from .*cart-none\.toml"):
        same_population([first, other])
    with pytest.raises(HopsimError, match=r"population\.toml: households differs"):
        same_population([first, other.with_overrides(first.persons, first.days)])
    same_population([first, load_scenario(JOURNEY)])  # only the messaging differs


def test_the_cli_refuses_two_populations(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compare", str(NONE), str(SCENARIOS / "class-hours.toml"), "--persons", "20"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "class-hours.toml" in err and "differs from" in err


def test_designs_with_two_goals_or_none_have_nothing_to_compare() -> None:
    journey = load_scenario(JOURNEY)
    other = dict(journey.journeys[0], goal={"event": "Feature Explored", "window_hours": 24})
    odd = replace(journey, journeys=[other], path=Path("odd.toml"))
    with pytest.raises(HopsimError, match=r"odd\.toml: journeys\[0\] \(cart\)\.goal is Feature"):
        common_goal([load_scenario(ONE), odd])
    with pytest.raises(
        HopsimError, match="no \\[\\[campaigns\\]\\] or \\[\\[journeys\\]\\] declares a goal"
    ):
        common_goal([load_scenario(NONE), load_scenario(NONE)])
    assert common_goal([load_scenario(NONE), journey]) == ("Order Completed", ())


def test_a_design_given_twice_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(ONE), str(ONE), "--persons", "20"]) == 2
    assert "given twice" in capsys.readouterr().err


# -- the programme's global control group ---------------------------------------------


@pytest.fixture(scope="module")
def programme_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    scenario = load_scenario(SCENARIOS / "programme-journeys.toml").with_overrides(300, 2)
    out = tmp_path_factory.mktemp("programme") / "run"
    summary: dict[str, Any] = Run(scenario, out, 2).execute()
    return summary


def test_summary_holds_the_programme_lift(programme_run: dict[str, Any]) -> None:
    block = programme_run["messaging"]["programme"]
    assert block["control_percent"] == 10.0
    people = block["held_out"]["persons"] + block["treated"]["persons"]
    assert people + block["split"] + block["unseen"] == programme_run["persons"]
    assert block["held_out"]["persons"] > 0 and block["held_out"]["messaged"] == 0
    assert block["treated"]["messaged"] > 0
    lift = block["lift"]
    assert lift["lift_ci_low"] <= lift["lift"] <= lift["lift_ci_high"]
    treated, held = lift["treated"], lift["held_out"]
    assert lift["lift"] == pytest.approx(treated["rate"] - held["rate"], abs=1e-6)


def test_a_control_group_of_nobody_is_a_clear_error() -> None:
    block = {
        "control_percent": 0.5,
        "held_out": {"persons": 0, "converted": 0},
        "treated": {"persons": 40, "converted": 3},
        "split": 0,
        "unseen": 2,
    }
    with pytest.raises(
        HopsimError, match=r"held-out group has 0 people .*control_percent = 0\.5 over 42"
    ):
        programme_lift(block, "[programme]")
    summary = programme_summary(block, 0.5)
    assert summary["lift"] is None and "0 people" in summary["problem"]


def test_cannibalisation_is_the_credit_one_journey_loses_to_the_other() -> None:
    both = JourneyCredit(
        entered={"a": {"p1", "p2", "p3"}, "b": {"p1", "p2", "p4"}},
        credited={"a": {"p3"}, "b": {"p1", "p2"}},
    )
    without_b = JourneyCredit(entered={"a": {"p1", "p2", "p3"}}, credited={"a": {"p1", "p2", "p3"}})
    without_a = JourneyCredit(entered={"b": {"p1", "p2", "p4"}}, credited={"b": {"p1", "p2"}})
    rows = cannibalisation(["a", "b"], [both], {"a": [without_a], "b": [without_b]})
    a_by_b = next(r for r in rows if r["journey"] == "a")
    assert a_by_b["overlap"] == 2  # p1, p2 entered both
    assert (a_by_b["credited_without_other"], a_by_b["credited_with_other"]) == (2, 0)
    assert a_by_b["cannibalised"] == 1.0 and a_by_b["share_of_credit"] == 1.0
    b_by_a = next(r for r in rows if r["journey"] == "b")
    assert b_by_a["cannibalised"] == 0.0 and (b_by_a["ci_low"], b_by_a["ci_high"]) == (0.0, 0.0)


def test_cannibalisation_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "cannibal"
    argv = ["compare", str(SCENARIOS / "programme-journeys.toml"), "--cannibalisation"]
    argv += ["--persons", "300", "--days", "2", "--replicates", "1", "--no-report"]
    assert main([*argv, "--out", str(out)]) == 0
    doc = _doc(out)
    assert list(doc["designs"]) == ["all", "without-browse", "without-cart"]
    assert set(doc["programme"]) == {"all", "without-browse", "without-cart"}
    assert doc["programme"]["all"]["lift"]["held_out"]["persons"] > 0
    pairs = {(r["journey"], r["other"]) for r in doc["cannibalisation"]}
    assert pairs == {("browse", "cart"), ("cart", "browse")}
    for row in doc["cannibalisation"]:
        assert row["ci_low"] <= row["cannibalised"] <= row["ci_high"]
        assert row["credited_with_other"] <= row["overlap"]
    credit = {r["journey"]: r for r in doc["attribution"]}
    assert set(credit) == {"browse", "cart"}
    for name, row in credit.items():
        assert row["credited_by_another"] <= row["credited"]
        conversions = doc["designs"]["all"]["conversions"]
        assert row["incremental"] == conversions - doc["designs"][f"without-{name}"]["conversions"]
        assert row["incremental_ci_low"] <= row["incremental_rate"] <= row["incremental_ci_high"]


def test_attribution_sets_credit_against_the_increment() -> None:
    both = JourneyCredit(credited={"a": {"p1", "p2", "p3"}, "b": {"p2", "p3"}})
    pair = {"mean": -0.25, "ci_low": -0.5, "ci_high": 0.0}
    designs = {
        "all": {"conversions": 3},
        "without-a": {"conversions": 2, "lift_paired": pair},
        "without-b": {"conversions": 3, "lift_paired": dict(pair, mean=0.0, ci_low=0.0)},
    }
    rows = {r["journey"]: r for r in attribution(["a", "b"], [both], designs)}
    assert rows["a"] == {
        "journey": "a",
        "credited": 3,
        "credited_by_another": 2,
        "incremental": 1,
        "incremental_rate": 0.25,
        "incremental_ci_low": 0.0,
        "incremental_ci_high": 0.5,
    }
    assert (rows["b"]["credited"], rows["b"]["incremental"]) == (2, 0)


def test_cannibalisation_needs_two_journeys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(JOURNEY), "--cannibalisation", "--persons", "20"]) == 2
    assert "needs two or more [[journeys]] (found 1: cart)" in capsys.readouterr().err


def test_the_report_lines_of_a_programme_and_of_cannibalisation() -> None:
    lift = {
        "treated": {"persons": 90, "converted": 9},
        "held_out": {"persons": 10, "converted": 0},
        "lift": 0.1,
        "lift_ci_low": -0.05,
        "lift_ci_high": 0.17,
    }
    _, text = programme_row("programme", {"lift": lift}) or ("", "")
    assert text == "+10.00 pp [-5.00, +17.00] (treated 9/90, held out 0/10 ordered)"
    assert programme_row("programme", {"problem": "0 people"}) == ("programme", "0 people")
    assert programme_row("programme", None) is None
    cannibal = {"journey": "a", "other": "b", "overlap": 4, "cannibalised": 0.25}
    doc = {"designs": {}, "cannibalisation": [cannibal | {"ci_low": 0.0, "ci_high": 0.5}]}
    assert compare_rows(doc) == [
        ("cannibalisation of a by b", "+25.00 pp [+0.00, +50.00] of 4 people in both")
    ]
    assert compare_rows({"campaigns": {}}) == []


def test_the_programme_lift_is_the_same_for_any_worker_count(
    programme_run: dict[str, Any], tmp_path: Path
) -> None:
    scenario = load_scenario(SCENARIOS / "programme-journeys.toml").with_overrides(300, 2)
    one = Run(scenario, tmp_path / "one", 1).execute()
    assert one["messaging"]["programme"] == programme_run["messaging"]["programme"]


def test_an_experiment_compare_carries_the_programme_lift(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / "cart-journey.toml").with_overrides(200, 2)
    scenario = replace(scenario, programme={"control_percent": 20})
    found = experiments(scenario)
    doc = compare(scenario, found, tmp_path / "arms", 1, 1)
    rows = doc["campaigns"]["cart.arm"]["variants"]
    assert set(rows) == {"journey", "one-message", "control"}
    for row in rows.values():
        lift = row["programme"]["lift"]
        assert lift["held_out"]["persons"] > 0
        assert lift["lift_ci_low"] <= lift["lift"] <= lift["lift_ci_high"]


def test_compare_with_an_empty_global_control_says_so(tmp_path: Path) -> None:
    """A held-out group nobody fell into: compare.json keeps the problem, and the command fails."""
    journey = load_scenario(JOURNEY).with_overrides(150, 2)
    tiny = replace(journey, programme={"control_percent": 0.01})
    args = Namespace(cannibalisation=False, replicates=1, workers=1, no_report=True)
    out = tmp_path / "tiny"
    with pytest.raises(HopsimError, match="held-out group has 0 people"):
        run_designs([load_scenario(NONE).with_overrides(150, 2), tiny], args, out)
    assert "0 people" in _doc(out)["programme"]["cart-journey-only"]["problem"]


def test_cannibalisation_takes_one_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(ONE), str(JOURNEY), "--cannibalisation"]) == 2
    assert "--cannibalisation: expected exactly one scenario file" in capsys.readouterr().err
