"""Each journey metric on a tiny hand-made trace whose answer is worked out by hand.

The traces are literal event lists: ``ev(seconds, device, type, name, properties)``
only spells out the Segment envelope (timestamp, context.device) around them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sim.analysis.journey_metrics import JourneyMetrics, journey_block, journey_metrics, trace_tally
from sim.analysis.metrics_config import ChannelCost, MetricsConfig, parse_metrics_config
from sim.errors import ConfigError
from sim.trace.clock import epoch_seconds, iso_ms
from sim.trace.truth import owners_of_rows

START = datetime(2026, 11, 2, tzinfo=UTC)
DAY = 86_400
TYPES = {"p1": "phone", "l1": "laptop", "tv1": "tv", "b1": "phone", "c1": "phone"}
TRUTH = [
    {"device_id": "p1", "device_type": "phone", "person_id": "ann", "household_id": "h1"},
    {"device_id": "l1", "device_type": "laptop", "person_id": "ann", "household_id": "h1"},
    {"device_id": "tv1", "device_type": "tv", "person_id": None, "household_id": "h1"},
    {"device_id": "b1", "device_type": "phone", "person_id": "bob", "household_id": "h2"},
    {"device_id": "c1", "device_type": "phone", "person_id": "cat", "household_id": "h3"},
]
HOME = {"path": "/", "url": "https://shopwise.example/"}


def ev(
    seconds: float, device: str, kind: str, name: str, properties: dict[str, Any] | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "timestamp": iso_ms(START + timedelta(seconds=seconds)),
        "context": {"device": {"id": device, "type": TYPES[device]}},
        "properties": properties or {},
    }
    event["event" if kind == "track" else "name"] = name
    return event


def run(
    events: list[dict[str, Any]],
    days: int = 1,
    profiles: list[dict[str, Any]] | None = None,
    messages: list[dict[str, Any]] | None = None,
    config: MetricsConfig | None = None,
) -> dict[str, Any]:
    return journey_metrics(
        events, TRUTH, profiles or [], messages or [], START, days, config or MetricsConfig()
    )


SESSIONS = [
    ev(0, "p1", "track", "Application Opened"),
    ev(10, "p1", "screen", "Home"),
    ev(40, "p1", "screen", "Feed"),
    ev(100, "p1", "track", "Application Backgrounded"),
    ev(200, "p1", "screen", "Feed"),  # after Backgrounded: outside any session
    ev(500, "l1", "page", "Home", HOME),
    ev(530, "l1", "track", "Product Viewed", {"product_id": "p-1"}),
    ev(590, "l1", "page", "Feed"),
    ev(1000, "p1", "track", "Application Opened"),
    ev(1005, "p1", "screen", "Home"),
    ev(1060, "p1", "track", "Application Backgrounded"),
    ev(2000, "p1", "track", "Push Notification Received", {"campaign": "c", "channel": "push"}),
    ev(3000, "tv1", "track", "Application Opened"),
    ev(3000, "tv1", "screen", "Browse"),
    ev(5000, "tv1", "track", "Video Playback Completed"),
]


def test_sessions_bounce_views_and_time() -> None:
    # Sessions: A phone 0-100 (Home, Feed), C laptop 500-590 (Home, Product, Feed),
    # B phone 1000-1060 (Home), D tv 3000-5000 (Browse). B and D saw one view: bounces.
    result = run(SESSIONS)
    overall = result["overall"]
    assert overall["sessions"] == 4
    assert overall["bounces"] == 2
    assert overall["bounce_rate"] == 0.5
    assert overall["views"] == 7
    assert overall["views_per_session"] == 1.75
    assert overall["time_per_session_s"] == (100 + 90 + 60 + 2000) / 4
    assert overall["time_per_session_median_s"] == 95.0
    assert result["events_outside_sessions"] == 1
    phone = result["by_device"]["phone"]
    assert (phone["sessions"], phone["bounces"], phone["views_per_session"]) == (2, 1, 1.5)
    assert phone["time_per_session_s"] == 80.0
    assert result["by_device"]["laptop"]["bounce_rate"] == 0.0
    assert result["by_device"]["tv"]["bounce_rate"] == 1.0


def test_exit_rate_is_exits_over_views_of_the_page() -> None:
    # Feed: last view of A and C, viewed twice in sessions -> 2/2. Home: last of B only,
    # viewed in A, B and C -> 1/3. Browse ends D -> 1/1. The stray Feed outside is no view.
    exits = {row["page"]: row for row in run(SESSIONS)["exit_pages"]}
    assert (exits["Feed"]["exits"], exits["Feed"]["views"], exits["Feed"]["exit_rate"]) == (
        2,
        2,
        1.0,
    )
    assert (exits["Home"]["exits"], exits["Home"]["views"]) == (1, 3)
    assert exits["Home"]["exit_rate"] == 0.3333
    assert exits["Browse"]["exit_rate"] == 1.0
    assert "Product" not in exits  # viewed, never last
    assert next(row["page"] for row in run(SESSIONS)["exit_pages"]) == "Feed"


def test_a_session_has_the_stage_its_person_had_reached_when_it_began() -> None:
    # Ann views a product in C (500): A and C began unaware, B (1000) began aware.
    stages = run(SESSIONS)["by_stage"]
    assert stages["unaware"]["sessions"] == 3  # A, C and the household TV session
    assert stages["awareness"]["sessions"] == 1
    assert list(stages) == ["unaware", "awareness"]


def test_installed_then_opened_at_one_moment_is_one_session() -> None:
    events = [
        ev(0, "p1", "track", "Application Installed"),
        ev(0, "p1", "track", "Application Opened"),
        ev(30, "p1", "screen", "Home"),
    ]
    assert run(events)["overall"]["sessions"] == 1


MESSAGES = [
    {
        "decision": "sent",
        "channel": "push",
        "device_id": "p1",
        "device_type": "phone",
        "at": iso_ms(START),
    },
    {
        "decision": "sent",
        "channel": "push",
        "device_id": "p1",
        "device_type": "phone",
        "at": iso_ms(START),
    },
    {
        "decision": "sent",
        "channel": "push",
        "device_id": "b1",
        "device_type": "phone",
        "at": iso_ms(START),
    },
    {
        "decision": "suppressed",
        "channel": "push",
        "device_id": "p1",
        "device_type": "phone",
        "at": iso_ms(START),
    },
    {
        "decision": "sent",
        "channel": "email",
        "device_id": "l1",
        "device_type": "laptop",
        "at": iso_ms(START),
    },
]
REACTIONS = [
    ev(60, "p1", "track", "Push Notification Received", {"campaign": "c", "channel": "push"}),
    ev(70, "p1", "track", "Push Notification Tapped", {"campaign": "c", "channel": "push"}),
    ev(80, "p1", "track", "Application Opened"),
    ev(80, "p1", "screen", "Campaign Landing", {"campaign": "c", "deep_link": "cart"}),
    ev(120, "p1", "track", "Order Completed", {"revenue": 20.0}),
    ev(300, "l1", "track", "Email Opened", {"campaign": "c", "channel": "email"}),
    ev(310, "l1", "track", "Unsubscribed", {"campaign": "c", "channel": "email"}),
]


def test_impressions_clicks_ctr_and_conversions_by_channel_and_device() -> None:
    # push: 3 delivered (the suppressed one is no impression), ann taps one, the deep link
    # opens (a click), she orders: CTR 1/3, one conversion. email: delivered, opened, opt-out.
    result = run(REACTIONS, messages=MESSAGES)
    push = result["by_channel"]["push"]
    assert push["messages"]["delivered"] == 3
    assert push["messages"]["opened"] == 1
    assert push["messages"]["clicked"] == 1
    assert push["messages"]["ctr"] == 0.3333
    assert push["messages"]["conversions"] == 1
    assert push["sessions"] == 1  # the session the click opened is push's
    email = result["by_channel"]["email"]["messages"]
    assert (email["delivered"], email["opened"], email["clicked"], email["opt_outs"]) == (
        1,
        1,
        0,
        1,
    )
    assert email["ctr"] == 0.0
    laptop = result["by_device"]["laptop"]["messages"]
    assert (laptop["delivered"], laptop["opened"]) == (1, 1)
    assert result["overall"]["messages"]["delivered"] == 4


def test_cpc_cpm_and_cost_per_conversion_only_where_a_cost_is_declared() -> None:
    # push at 0.01 a message: 3 delivered cost 0.03; CPM = 0.03 / 3 * 1000 = 10;
    # CPC = 0.03 / 1 click; cost per conversion = 0.03 / 1 order. Email declares nothing.
    config = MetricsConfig(costs={"push": ChannelCost("push", 0.01, "USD", "test price")})
    channels = run(REACTIONS, messages=MESSAGES, config=config)["by_channel"]
    push = channels["push"]["messages"]
    assert push["cost"] == 0.03
    assert push["cpm"] == 10.0
    assert push["cpc"] == 0.03
    assert push["cost_per_conversion"] == 0.03
    assert push["cost_source"] == "test price"
    assert "cost" not in channels["email"]["messages"]


def test_unique_and_returning_visitors_by_person_and_by_profile() -> None:
    # Day 0: Ann on her phone and laptop (stitching split them: two profiles).
    # Day 1: Ann again on her phone (returning), Bob for the first time, and the household
    # TV with nobody signed in: a profile visitor (its device alone), no true person.
    events = [
        ev(0, "p1", "track", "Application Opened"),
        ev(100, "l1", "page", "Home", HOME),
        ev(DAY + 10, "p1", "track", "Application Opened"),
        ev(DAY + 20, "b1", "track", "Application Opened"),
        ev(DAY + 30, "tv1", "track", "Application Opened"),  # the household's TV, nobody signed in
    ]
    profiles = [
        {"profile_id": "pA", "device_ids": ["p1"], "kind": "person"},
        {"profile_id": "pB", "device_ids": ["l1"], "kind": "person"},
        {"profile_id": "pC", "device_ids": ["b1"], "kind": "person"},
        {"profile_id": "hh", "device_ids": ["p1", "l1"], "kind": "household"},
    ]
    visitors = run(events, days=2, profiles=profiles)["visitors"]
    day0, day1 = visitors["daily"]
    assert day0["from"] == "2026-11-02"
    assert day0["persons"] == {"unique": 1, "new": 1, "returning": 0}
    assert day0["profiles"] == {"unique": 2, "new": 2, "returning": 0}
    assert day1["persons"] == {"unique": 2, "new": 1, "returning": 1}
    assert day1["profiles"] == {"unique": 3, "new": 2, "returning": 1}  # pA, pC, the TV alone
    (week,) = visitors["weekly"]
    assert week["persons"] == {"unique": 2, "new": 2, "returning": 0}
    assert week["profiles"] == {"unique": 4, "new": 4, "returning": 0}
    assert visitors["sessions_without_person"] == 1


def test_churn_counts_customers_silent_through_the_last_n_days() -> None:
    # Three days, a one-day window (day 2). Ann ordered on day 0 and came back on day 2;
    # Bob ordered on day 1 and never came back: churned. Cat's order falls in the window.
    order = {"revenue": 5.0}
    events = [
        ev(0, "p1", "track", "Application Opened"),
        ev(10, "p1", "track", "Order Completed", order),
        ev(DAY, "b1", "track", "Application Opened"),
        ev(DAY + 10, "b1", "track", "Order Completed", order),
        ev(2 * DAY, "p1", "track", "Application Opened"),
        ev(2 * DAY + 5, "c1", "track", "Application Opened"),
        ev(2 * DAY + 9, "c1", "track", "Order Completed", order),
    ]
    churn = run(events, days=3, config=MetricsConfig(churn_days=1))["churn"]
    assert (churn["customers"], churn["churned"], churn["rate"]) == (2, 1, 0.5)
    short = run(events, days=3)["churn"]  # the default 30 days does not fit in three
    assert short["rate"] is None and "30-day" in short["reason"]


def test_timestamp_shortcut_matches_the_clock() -> None:
    metrics = JourneyMetrics.__new__(JourneyMetrics)
    metrics.minutes = {}
    for stamp in (
        "2026-11-02T07:13:05.123Z",
        "2026-11-02T07:13:59.999Z",
        "2026-12-31T23:59:00.000Z",
    ):
        assert metrics.seconds(stamp) == pytest.approx(epoch_seconds(stamp), abs=1e-6)
    assert metrics.seconds("2026-11-02T07:13:05+01:00") == epoch_seconds(
        "2026-11-02T07:13:05+01:00"
    )


def test_channel_costs_are_read_with_their_source() -> None:
    config = parse_metrics_config(
        {
            "channels": {"sms": {"cost_per_message": 0.0079, "source": "Twilio US SMS price"}},
            "metrics": {"churn_days": 60, "remark": "assumed"},
        },
        "s.toml",
    )
    assert config.costs["sms"].cost_per_message == 0.0079
    assert config.costs["sms"].currency == "USD"
    assert (config.churn_days, config.churn_source) == (60, "assumed")
    assert parse_metrics_config({}, "s.toml").costs == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"channels": {"sms": {"cost_per_message": 0.01}}},
            "s.toml: channels.sms: expected a 'source'",
        ),
        (
            {"channels": {"sms": {"cost_per_message": "cheap", "remark": "x"}}},
            "channels.sms.cost_per_message",
        ),
        (
            {"channels": {"sms": {"cost": 0.01, "remark": "x"}}},
            "channels.sms.cost: expected a known key",
        ),
        ({"channels": {"sms": 0.01}}, "channels.sms: expected a table"),
        ({"metrics": {"churn_days": 0, "remark": "x"}}, "metrics.churn_days"),
    ],
)
def test_bad_channel_tables_name_the_file_and_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_metrics_config(data, "s.toml")
    assert message in str(caught.value)


def test_a_run_folder_gets_the_block(tmp_path: Path) -> None:
    from sim.runner.run import Run
    from sim.world.scenario import load_scenario

    scenario = load_scenario(Path("scenarios/population.toml")).with_overrides(persons=12, days=1)
    summary = Run(scenario, tmp_path / "run").execute()
    block = summary["journey_metrics"]
    assert block["overall"]["sessions"] > 0
    assert set(block["by_device"]) <= {"phone", "tablet", "laptop", "watch", "car", "tv", "speaker"}
    assert len(block["exit_pages"]) <= 10


def test_consume_equals_observe() -> None:
    # The fast loop of consume must count exactly what observe counts event by event.
    events = sorted([*SESSIONS, *REACTIONS], key=lambda e: e["timestamp"])
    config = MetricsConfig()
    fast = JourneyMetrics(owners_of_rows(TRUTH), START.timestamp())
    slow = JourneyMetrics(owners_of_rows(TRUTH), START.timestamp())
    for metrics in (fast, slow):
        metrics.sent(MESSAGES)
    fast.consume(events)
    for event in events:
        slow.observe(event)
    blocks = [journey_block([m.finish()], [], START.timestamp(), 1, config) for m in (fast, slow)]
    assert blocks[0] == blocks[1]
    # Interleaved, the push session (opened at 80) cuts A after two views and is itself
    # backgrounded at 100, so the order at 120 falls outside: 2 + 1 + 3 + 1 + 1 views.
    assert blocks[0]["overall"]["views"] == 8


def test_households_read_apart_add_up_to_the_whole_trace() -> None:
    # A run's shards each read their own households' events (in trace order) into a tally;
    # added up, the tallies give the block of the whole trace, visitors' profiles included.
    order = {"revenue": 5.0}
    others = [
        ev(50, "b1", "track", "Application Opened"),
        ev(65, "b1", "screen", "Home"),
        ev(DAY + 5, "b1", "track", "Application Opened"),
        ev(DAY + 9, "b1", "track", "Order Completed", order),
        ev(2 * DAY + 1, "c1", "track", "Application Opened"),
        ev(2 * DAY + 2, "c1", "track", "Push Notification Tapped", {"campaign": "c"}),
        ev(2 * DAY + 3, "c1", "screen", "Campaign Landing", {"campaign": "c"}),
        ev(2 * DAY + 4, "c1", "track", "Order Completed", order),
    ]
    events = sorted([*SESSIONS, *REACTIONS, *others], key=lambda e: e["timestamp"])
    profiles = [
        {"profile_id": "pA", "device_ids": ["p1", "l1"], "kind": "person"},
        {"profile_id": "pB", "device_ids": ["b1", "c1"], "kind": "person"},
    ]
    config = MetricsConfig(churn_days=1)
    whole = journey_metrics(events, TRUTH, profiles, MESSAGES, START, 3, config)
    households = {"h1": {"p1", "l1", "tv1"}, "h2": {"b1"}, "h3": {"c1"}}
    tallies = []
    for devices in households.values():
        mine = [e for e in events if e["context"]["device"]["id"] in devices]
        truth = [row for row in TRUTH if row["device_id"] in devices]
        sent = [row for row in MESSAGES if row["device_id"] in devices]
        tallies.append(trace_tally(mine, truth, sent, START.timestamp()))
    parts = journey_block(tallies, profiles, START.timestamp(), 3, config)
    assert parts == whole
    assert whole["overall"]["messages"]["conversions"] == 1  # cat's order after her tap
    assert whole["visitors"]["daily"][0]["profiles"]["unique"] == 3  # pA, pB, the TV
    assert (whole["churn"]["customers"], whole["churn"]["churned"]) == (1, 1)  # bob, gone
