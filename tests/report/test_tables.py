"""Tables read from the tiny fixture run folder (tests/fixtures/run_small)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from sim.analysis.compare import wilson
from sim.report import tables as t
from sim.report.readers import ReportInputError


@pytest.fixture
def collected(run_dir: Path) -> t.Tables:
    return t.collect(run_dir)


def test_sessions_attribute_events_to_true_persons(collected: t.Tables) -> None:
    assert collected.trace is not None
    assert collected.trace.events == 56
    assert collected.trace.unattributed_events == 2  # the family TV has no userId
    people = {s.person_id for s in collected.trace.sessions}
    assert people == {"p-mason", "p-susan", "p-kaylee"}
    assert len(collected.trace.sessions) == 18
    assert len(collected.trace.context_changes) == 5


def test_switch_matrix_counts_device_changes(collected: t.Tables) -> None:
    matrix = collected.switches
    assert matrix is not None
    counts = dict(
        ((matrix.types[i], matrix.types[j]), int(matrix.counts[i, j]))
        for i in range(len(matrix.types))
        for j in range(len(matrix.types))
        if matrix.counts[i, j]
    )
    assert counts == {
        ("phone", "speaker"): 2,
        ("speaker", "tablet"): 1,
        ("tablet", "tv"): 1,
        ("tv", "phone"): 1,
        ("laptop", "phone"): 1,
        ("phone", "phone"): 1,
        ("phone", "laptop"): 2,
        ("car", "laptop"): 1,
        ("laptop", "watch"): 1,
        ("watch", "phone"): 1,
    }


def test_daily_switch_share_is_the_summary_count_per_local_day(collected: t.Tables) -> None:
    days = [(d.date, d.people, d.switchers) for d in collected.switch_days]
    assert days == [("2026-11-02", 3, 3), ("2026-11-03", 3, 2)]


def test_journeys_to_purchase(collected: t.Tables) -> None:
    paths = {j.steps: (j.count, round(j.share, 3)) for j in collected.journeys}
    assert paths == {
        ("phone", "phone · push", "speaker", "tablet"): (1, 0.333),
        ("laptop", "phone · email", "phone", "laptop"): (1, 0.333),
        ("car", "laptop", "watch", "phone", "laptop"): (1, 0.333),
    }


def test_attribution_last_non_direct_touch(collected: t.Tables) -> None:
    credits = [(c.channel, c.orders, c.revenue) for c in collected.channels]
    assert credits == [("direct", 1, 60.0), ("email", 1, 120.0), ("push", 1, 40.0)]


def test_day_in_life_of_the_named_personas(collected: t.Tables) -> None:
    mason, susan, kaylee = collected.days
    assert (mason.name, mason.date, mason.rows) == (
        "Mason",
        "2026-11-02",
        ["phone", "tablet", "tv", "speaker"],
    )
    assert [(b.label, b.start_h, b.end_h) for b in mason.bands] == [
        ("commute", 7.25, 8.0),
        ("work", 8.0, 17.5),
        ("commute", 17.5, 18.25),
        ("kitchen", 18.25, 20.75),
        ("couch", 20.75, 24.0),
    ]
    assert not mason.bands_from_sessions
    assert susan.rows == ["phone 1", "phone 2", "laptop"]
    assert susan.bands_from_sessions
    assert {b.label for b in susan.bands} == {"active"}
    assert [b.label for b in kaylee.bands] == ["driving", "class", "gym", "home"]
    tv = mason.rows.index("tv")
    assert [(s.start_h, s.end_h) for s in mason.spans if s.row == tv] == [(21.0, 22.0)]


def test_summary_tables(collected: t.Tables) -> None:
    assert t.funnel(collected)[0] == ("awareness", 1000)
    assert [stage for stage, _ in t.funnel(collected)] == list(t.FUNNEL_STAGES)
    stitching = t.stitching(collected.summary)
    assert stitching is not None
    assert [name for name, _ in stitching.rows] == ["overall", "deterministic", "probabilistic"]
    assert stitching.rows[1][1]["pairwise_precision"] == 1.0
    assert (stitching.over_merges, stitching.under_merges) == (2, 9)
    failed = [x.name for x in t.thresholds(collected) if not x.ok]
    assert failed == ["realism.switch_rate"]
    assert len(t.thresholds(collected)) == 4


def test_messages_profiles_experiments_loadtest(collected: t.Tables) -> None:
    messages = collected.messages
    assert messages is not None and messages.total == 10
    assert messages.by_channel["push"] == {
        "sent": 2,
        "suppressed: dedup": 1,
        "suppressed: quiet_hours": 1,
    }
    assert messages.outcomes[0] == "sent"
    assert collected.profiles is not None
    assert collected.profiles.households == 1
    assert collected.profiles.profile_devices == {3: 1, 1: 1, 4: 1, 2: 2}
    assert collected.profiles.person_devices == {4: 3}
    control, treatment = collected.variants
    assert (control.name, control.low, control.high) == ("control", 0.0326, 0.0758)
    assert control.campaign == "abandoned-cart"  # compare.json's scenario names the campaign
    assert control.is_control and not treatment.is_control
    assert (treatment.low, treatment.high) == pytest.approx(wilson(34, 400))
    assert collected.load is not None and collected.load.latency_ms["p99"] == 9.8
    assert collected.load_series is not None and len(collected.load_series.columns["t_s"]) == 10


def test_wilson_interval_known_value() -> None:
    low, high = wilson(10, 100)
    assert low == pytest.approx(0.05523, abs=1e-4)
    assert high == pytest.approx(0.17437, abs=1e-4)
    assert wilson(0, 0) == (0.0, 0.0)


def test_every_file_is_optional(tmp_path: Path) -> None:
    empty = t.collect(tmp_path)
    assert empty.summary is None and empty.trace is None and empty.messages is None
    assert t.funnel(empty) == [] and t.thresholds(empty) == []


def test_trace_without_truth_is_skipped(run_dir: Path) -> None:
    (run_dir / "truth.jsonl.gz").unlink()
    collected = t.collect(run_dir)
    assert collected.trace is None and collected.switches is None


def test_malformed_jsonl_names_file_and_line(run_dir: Path) -> None:
    path = run_dir / "messages.jsonl"
    lines = path.read_text().splitlines()
    lines[2] = '{"campaign": "oops"'
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReportInputError, match=r"messages\.jsonl: line 3: invalid JSON"):
        t.collect(run_dir)


def test_malformed_trace_timestamp_names_line(run_dir: Path) -> None:
    with gzip.open(run_dir / "trace.jsonl.gz", "wt") as handle:
        handle.write('{"timestamp": "2026-11-02T12:00:00Z", "context": {}}\n')
        handle.write('{"timestamp": "yesterday", "context": {}}\n')
    with pytest.raises(ReportInputError, match=r"trace\.jsonl\.gz: line 2: key 'timestamp'"):
        t.collect(run_dir)


def test_bad_decision_and_bad_csv_are_named(run_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(run_dir, other)
    (run_dir / "messages.jsonl").write_text('{"decision": "maybe"}\n')
    with pytest.raises(ReportInputError, match=r"messages\.jsonl: line 1: key 'decision'"):
        t.collect(run_dir)
    (other / "loadtest_timeseries.csv").write_text("t_s,rps\n1,2\n")
    with pytest.raises(ReportInputError, match=r"loadtest_timeseries\.csv: missing column"):
        t.collect(other)


def test_summary_that_is_not_an_object(run_dir: Path) -> None:
    (run_dir / "summary.json").write_text("[1, 2]")
    with pytest.raises(ReportInputError, match=r"summary\.json: expected a JSON object"):
        t.collect(run_dir)


def test_switch_share_keeps_to_the_scenario_days(run_dir: Path) -> None:
    path = run_dir / "summary.json"
    path.write_text(path.read_text().replace('"days": 2,', '"days": 1,'))
    collected = t.collect(run_dir)
    assert [d.date for d in collected.switch_days] == ["2026-11-02"]


def test_variants_from_the_summary_messaging_block() -> None:
    from sim.report.experiments import variants

    summary = {
        "messaging": {
            "experiments": [
                {
                    "campaign": "cart",
                    "variant": "holdout_a",
                    "control": True,
                    "n": 50,
                    "conversions": 5,
                    "rate": 0.1,
                },
                {
                    "campaign": "cart",
                    "variant": "free_shipping",
                    "control": False,
                    "n": 50,
                    "conversions": 9,
                    "rate": 0.18,
                },
            ]
        }
    }
    found = variants(None, summary)
    assert [(v.campaign, v.name, v.is_control) for v in found] == [
        ("cart", "holdout_a", True),
        ("cart", "free_shipping", False),
    ]
    assert (found[1].low, found[1].high) == pytest.approx(wilson(9, 50))


def test_message_arrivals_are_passive_and_actions_touch_a_channel() -> None:
    from sim.report.sessions import event_channel, is_passive

    shown = {"event": "TV Banner Shown", "properties": {"channel": "tv_banner"}}
    tapped = {"event": "Push Notification Tapped", "properties": {"channel": "push"}}
    viewed = {"event": "Product Viewed", "properties": {"product_id": "p-1"}}
    assert is_passive(shown) and is_passive({"event": "Push Notification Received"})
    assert not is_passive(tapped) and not is_passive(viewed)
    assert event_channel(tapped) == "push"
    assert event_channel({"event": "Email Link Clicked"}) == "email"
    assert event_channel({"event": "Page", "context": {"campaign": {"medium": "cpc"}}}) == "cpc"
    assert event_channel(viewed) == "direct"


def test_suppressed_before_a_channel_was_chosen(tmp_path: Path) -> None:
    rows = [(1, {"decision": "suppressed", "reason": "no_consent", "channel": None})]
    table = t.message_table(rows, tmp_path)
    assert table is not None
    assert table.by_channel == {t.NONE_CHOSEN: {"suppressed: no_consent": 1}}


def test_locust_stats_history_when_no_timeseries(run_dir: Path) -> None:
    (run_dir / "loadtest_timeseries.csv").unlink()
    (run_dir / "locust_stats_history.csv").write_text(
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,99%\n"
        "1700000000,10,POST,/v1/batch,5.0,0,3,9\n"
        "1700000000,10,,Aggregated,5.0,0,3,9\n"
        "1700000001,10,,Aggregated,7.5,0,4,N/A\n"
    )
    series = t.collect(run_dir).load_series
    assert series is not None and series.source == "locust_stats_history.csv"
    assert series.columns["t_s"] == [0.0, 1.0]
    assert series.columns["rps"] == [5.0, 7.5]
    assert series.has("p50_ms") and not series.has("lag_p99_ms")


def test_stitching_table_leads_with_person_level_and_labels_both_levels() -> None:
    from sim.analysis.stitching import HOUSEHOLD_LEVEL, PERSON_LEVEL, score
    from sim.report.headline import key_numbers

    truth = [
        {"device_id": "a1", "device_type": "phone", "household_id": "h", "person_id": "A"},
        {"device_id": "a2", "device_type": "watch", "household_id": "h", "person_id": "A"},
        {"device_id": "b1", "device_type": "phone", "household_id": "h", "person_id": "B"},
    ]
    profiles = [
        {"profile_id": "p1", "kind": "person", "device_ids": ["a1", "b1"]},  # A and B fused
        {"profile_id": "p2", "kind": "person", "device_ids": ["a2"]},
    ]
    summary = {"stitching": score(profiles, truth)}
    table = t.stitching(summary)
    assert table is not None
    assert [name for name, _ in table.rows] == [
        "person level",
        "person level, deterministic only",
        "household level",
        "household level, deterministic only",
    ]
    # person level: one predicted pair (a1-b1), wrong; one true pair (a1-a2), missed
    assert table.rows[0][1]["pairwise_precision"] == 0.0
    assert table.definitions == {"person level": PERSON_LEVEL, "household level": HOUSEHOLD_LEVEL}
    assert table.extras["person level: fused share"] == 0.5
    assert table.extras["person level: watch with owner's phone"] == 0.0
    rows = dict(key_numbers(t.Tables(Path("."), summary=summary)))
    assert rows["stitching F0.5, person level (owned devices with their owner, ICDM 2015)"] == "0"
    assert rows["person profiles fusing 2+ people"] == "0.5"


def test_message_section_shows_what_stitching_errors_cost() -> None:
    from sim.report.sections import _messages

    summary = {"messaging": {"sent": 9, "split_profile_repeats": 2, "fused_profile_sends": 3}}
    section = _messages(t.Tables(Path("."), summary=summary))
    rows = dict(section.rows)
    assert rows["sent"] == "9"
    assert [v for k, v in rows.items() if k.startswith("split_profile_repeats (")] == ["2"]
    assert [v for k, v in rows.items() if k.startswith("fused_profile_sends (")] == ["3"]
