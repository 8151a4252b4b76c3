"""Audience rules (all / any / none, time windows, named segments) and entry on a change, on the
real engine: events in, the stitched profile card read, no mocks."""

from __future__ import annotations

from typing import Any

import pytest

from sim.engine.engine import Engine
from sim.engine.messaging import Messenger, build_messaging
from sim.engine.messaging.profiles import ProfileCard
from sim.engine.messaging.rules import Did, Group, Trait, count_since, holds
from sim.errors import ConfigError
from tests.engine.test_journeys import WHERE, journey, msg, rows
from tests.engine.test_messaging import START, campaign, event, granted, hours, run_ticks

DAY = hours(24)
TWICE_IN_30 = {"event": "Order Completed", "min": 2, "within_days": 30}
VIEWED_7_NOT_ORDERED = {
    "all": [
        {"event": "Product Viewed", "properties": {"product_id": "p-7"}},
        {"none": [{"event": "Order Completed", "within_days": 7}]},
    ]
}


def setup(
    *journeys: dict[str, Any],
    campaigns: list[dict[str, Any]] | None = None,
    programme: dict[str, Any] | None = None,
) -> tuple[Engine, Messenger]:
    messenger = build_messaging(campaigns or [], WHERE, list(journeys), programme)
    assert messenger is not None
    messenger.bind_start(START)
    return Engine({}, messaging=messenger), messenger


def problems(*journeys: dict[str, Any], programme: dict[str, Any] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        build_messaging([], WHERE, list(journeys), programme)
    return str(caught.value)


def device(messenger: Messenger, profile_id: str) -> str:
    """The first device of a profile (tests name devices, the engine names profiles)."""
    found = messenger.book.get(profile_id)
    assert found is not None
    return sorted(found.devices)[0]


# ---- evaluating rules on a card ------------------------------------------------------------


def test_count_in_a_window_and_nested_boxes() -> None:
    box = ProfileCard("p")
    box.history["Order Completed"] = [0.0, 10 * DAY, 40 * DAY]
    twice = Did("Order Completed", least=2, within=30 * DAY)
    assert holds(twice, box, 39 * DAY)  # days 10 and 40 (a little ahead of the clock: counted)
    assert not holds(twice, box, 41 * DAY)  # only day 40 within the last 30 days
    box.history["Order Completed"] = [0.0, 10 * DAY]
    assert holds(twice, box, 30 * DAY) and not holds(twice, box, 31 * DAY)
    never = Did("Order Completed", least=0, most=0, within=7 * DAY)
    assert holds(never, box, 20 * DAY) and not holds(never, box, 16 * DAY)
    box.traits["age"] = 31
    older = Trait("age", {"min": 30})
    assert holds(Group("all", (older, never)), box, 20 * DAY)
    assert holds(Group("any", (twice, older)), box, 20 * DAY)
    assert not holds(Group("none", (twice, older)), box, 20 * DAY)
    assert holds(Trait("firstName", exists=False), box, 0) and not holds(
        Trait("age", exists=False), box, 0
    )
    assert count_since([1.0, 2.0, 3.0], 2.0) == 2


def test_at_most_includes_none_and_properties_filter_what_counts() -> None:
    """Parsed from the scenario's shape: ``max`` alone means 0..max; ``properties`` counts only
    the product named."""
    spec = journey(
        msg("m"),
        entry={"event": "Cart Viewed"},
        audience={"all": [
            {"event": "Product Viewed", "max": 1},
            {"event": "Product Added", "properties": {"product_id": "p-7"}},
        ]},
    )  # fmt: skip
    engine, messenger = setup(spec)
    engine.ingest(event("a", 10, "Product Added", user="u-1", product_id="p-7"))  # viewed 0
    engine.ingest(event("b", 10, "Product Added", user="u-2", product_id="p-9"))
    for i in range(2):
        engine.ingest(event("c", 10 + i, "Product Viewed", user="u-3"))  # viewed twice
    engine.ingest(event("c", 20, "Product Added", user="u-3", product_id="p-7"))
    for name, user in (("a", "u-1"), ("b", "u-2"), ("c", "u-3")):
        engine.ingest(event(name, 60, "Cart Viewed", user=user))
    assert [device(messenger, r["profile_id"]) for r in rows(messenger, "entered")] == ["a"]


def test_audience_rule_gates_a_campaign_on_the_stitched_profile() -> None:
    """'Ordered twice in the last 30 days': u-1 ordered twice (phone, laptop), u-2 once."""
    spec = campaign(
        audience={"any": [TWICE_IN_30]},
        trigger={"event": "Product Added"},
        quiet_hours={"start": "00:00", "end": "00:00"},
    )
    engine, messenger = setup(campaigns=[spec])
    for name, kind, at in (("ph", "phone", 60), ("lap", "laptop", hours(2))):
        engine.ingest(event(name, at, "Order Completed", kind=kind))
    engine.ingest(event("p2", 60, "Order Completed", user="u-2"))
    for user, name in (("u-1", "ph"), ("u-2", "p2")):
        granted(engine, name, hours(3), user=user)
        engine.ingest(event(name, hours(3), "Product Added", user=user))
    run_ticks(engine, hours(3), hours(5))
    assert {device(messenger, d["profile_id"]) for d in messenger.decisions} == {"lap"}


def test_viewed_product_x_and_not_ordered_in_seven_days() -> None:
    spec = journey(msg("m"), entry={"event": "Cart Viewed"}, audience=VIEWED_7_NOT_ORDERED)
    engine, messenger = setup(spec)
    users = {"u-1": "p-7", "u-2": "p-9", "u-3": "p-7"}
    for i, (user, product) in enumerate(users.items()):
        engine.ingest(event(f"d{i}", 60, "Product Viewed", user=user, product_id=product))
    engine.ingest(event("d2", 120, "Order Completed", user="u-3"))
    for i, user in enumerate(users):
        engine.ingest(event(f"d{i}", 600, "Cart Viewed", user=user))
    assert [device(messenger, r["profile_id"]) for r in rows(messenger, "entered")] == ["d0"]
    # eight days later the order has left the window: u-3 is in the audience again
    engine.ingest(event("d2", 8 * DAY, "Cart Viewed", user="u-3"))
    assert len(rows(messenger, "entered")) == 2


def test_named_segments_nest_and_serve_a_split() -> None:
    programme = {
        "segments": {
            "buyers": {"event": "Order Completed"},
            "loyal": {"all": [{"segment": "buyers"}, {"trait": "age", "value": {"min": 30}}]},
        }
    }
    split = {"id": "who", "kind": "split", "on": "segment", "segment": "loyal",
             "yes": "thanks", "no": "nudge"}  # fmt: skip
    inline = {"id": "again", "kind": "split", "on": "segment", "yes": "thanks", "no": "nudge",
              "segment": {"none": [{"device_type": ["laptop"]}]}}  # fmt: skip
    first = journey(split, msg("thanks"), msg("nudge"), entry={"event": "Cart Viewed"})
    second = journey(inline, msg("thanks"), msg("nudge"), name="b", entry={"event": "Cart Viewed"})
    engine, messenger = setup(first, second, programme=programme)
    identify = event("ph", 10, "identify") | {"type": "identify", "traits": {"age": 40}}
    engine.ingest(identify)
    engine.ingest(event("ph", 20, "Order Completed"))
    engine.ingest(event("ph", 30, "Cart Viewed"))
    engine.ingest(event("lap", 40, "Cart Viewed", kind="laptop", user="u-2"))
    ways = sorted((r["journey"], device(messenger, r["profile_id"]), r["to"])
                  for r in rows(messenger, "advanced") if r["step"] in ("who", "again"))  # fmt: skip
    assert ways == [
        ("b", "lap", "nudge"),
        ("b", "ph", "thanks"),
        ("cart", "lap", "nudge"),
        ("cart", "ph", "thanks"),
    ]


# ---- entry on a change ---------------------------------------------------------------------


def test_entry_on_entering_a_segment_at_the_event_that_makes_it_true() -> None:
    spec = journey(msg("m"), name="vip", entry={"enters": TWICE_IN_30}, reentry_hours=1)
    engine, messenger = setup(spec)
    engine.ingest(event("ph", 60, "Order Completed"))
    assert rows(messenger, "entered") == []
    engine.ingest(event("ph", hours(5), "Order Completed"))
    engine.ingest(event("ph", hours(6), "Order Completed"))  # still inside: no second entry
    (entered,) = rows(messenger, "entered")
    assert entered["at"].startswith("2026-11-02T05:00")


def test_entry_on_leaving_a_segment_when_its_window_runs_out() -> None:
    """Leaving happens with no event at all: the hourly scan sees the window pass."""
    recent = {"event": "Order Completed", "within_hours": 2}
    spec = journey(msg("m"), name="lapsed", entry={"leaves": recent})
    engine, messenger = setup(spec)
    engine.ingest(event("ph", 600, "Order Completed"))
    run_ticks(engine, 0, hours(4))
    (entered,) = rows(messenger, "entered")
    assert entered["at"].startswith("2026-11-02T03:00")  # the first hourly scan after 02:10
    other = journey(msg("m"), name="never", entry={"leaves": recent})
    engine, messenger = setup(other)
    engine.ingest(event("ph", 600, "Product Viewed"))
    run_ticks(engine, 0, hours(4))
    assert rows(messenger, "entered") == []  # never in it, so never left it


def test_entry_on_push_permission_granted_and_on_a_trait_change() -> None:
    push = journey(msg("m"), name="push-on", entry={"trait": "push", "to": True})
    strict = journey(msg("m"), name="was-off", entry={"trait": "push", "to": True, "from": False})
    city = journey(msg("m"), name="moved", entry={"trait": "address.city", "to": "Boston"})
    engine, messenger = setup(push, strict, city)
    engine.ingest(event("ph", 60, "Push Permission Changed", granted=True))  # first sight
    engine.ingest(event("p2", 60, "Push Permission Changed", granted=False, user="u-2"))
    engine.ingest(event("p2", 120, "Push Permission Changed", granted=True, user="u-2"))
    engine.ingest(event("p2", 180, "Push Permission Changed", granted=True, user="u-2"))
    identify = event("p2", 240, "identify", user="u-2")
    engine.ingest(identify | {"type": "identify", "traits": {"address": {"city": "Boston"}}})
    entered = sorted((r["journey"], device(messenger, r["profile_id"]))
                     for r in rows(messenger, "entered"))  # fmt: skip
    assert entered == [("moved", "p2"), ("push-on", "p2"), ("push-on", "ph"), ("was-off", "p2")]


def test_change_entries_are_the_same_every_run() -> None:
    def once() -> list[dict[str, Any]]:
        spec = journey(msg("m"), name="vip", entry={"enters": TWICE_IN_30}, reentry_hours=1)
        engine, messenger = setup(spec)
        for i in range(30):
            for k in range(1 + i % 3):
                engine.ingest(event(f"d{i}", 60 + k * 600 + i, "Order Completed", user=f"u-{i}"))
        run_ticks(engine, 0, hours(3))
        return rows(messenger)

    first = once()
    assert len([r for r in first if r["event"] == "entered"]) == 20
    assert once() == first


# ---- validation: file, journey, step and key -----------------------------------------------


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        (
            {"audience": {"all": [{"event": "Cart Abandoned"}]}},
            "journeys[0] (cart).audience.all[0].event: expected a known event name",
        ),
        (
            {"audience": {"any": [{"event": "Order Completed", "within_days": 0}]}},
            "audience.any[0].within_days: expected a number > 0",
        ),
        (
            {"audience": {"all": [{"event": "Order Completed", "min": 3, "max": 1}]}},
            "audience.all[0].max: expected a count >= min (3)",
        ),
        (
            {"audience": {"all": [{"trait": "shoe_size", "value": 9}]}},
            "audience.all[0].trait: expected a known trait",
        ),
        ({"audience": {"all": []}}, "audience.all: expected a non-empty array of conditions"),
        (
            {"audience": {"none": [{"event": "Order Completed", "trait": "age"}]}},
            "audience.none[0]: expected exactly one of",
        ),
        ({"audience": {"every": []}}, "audience.every: expected one of"),
        (
            {"audience": {"all": [{"segment": "ghosts"}]}},
            "audience.all[0].segment: expected the name of a segment in [programme.segments]",
        ),
        (
            {"audience": {"all": [{"device_type": ["fridge"]}]}},
            "audience.all[0].device_type: expected names from",
        ),
        (
            {"audience": {"all": [{"event": "Order Completed", "min": -1}]}},
            "audience.all[0].min: expected a whole number >= 0",
        ),
        (
            {"audience": {"all": [{"event": "Order Completed", "properties": "p-7"}]}},
            "audience.all[0].properties: expected a table",
        ),
        (
            {
                "audience": {
                    "all": [{"event": "Order Completed", "within_days": 1, "within_hours": 2}]
                }
            },
            "audience.all[0]: expected at most one of within_days, within_hours",
        ),
        (
            {"audience": {"any": [{"trait": "email", "exists": "yes"}]}},
            "audience.any[0].exists: expected true or false",
        ),
        (
            {"audience": {"any": [{"region": "NY"}]}},
            "audience.any[0].region: expected a non-empty list",
        ),
        ({"audience": {"any": ["ghosts"]}}, "audience.any[0]: expected the name of a segment"),
        ({"audience": {"any": [7]}}, "audience.any[0]: expected a table"),
        ({"entry": {"enters": "ghosts"}}, "journeys[0] (cart).entry.enters: expected the name"),
        (
            {"entry": {"leaves": {"any": []}}},
            "journeys[0] (cart).entry.leaves.any: expected a non-empty",
        ),
        ({"entry": {"trait": "push"}}, "journeys[0] (cart).entry.to: expected the value"),
        ({"entry": {"trait": "mood", "to": 1}}, "entry.trait: expected a known trait"),
        ({"entry": {"trait": "push", "to": True, "by": 1}}, "entry.by: expected one of trait"),
    ],
)
def test_bad_rules_and_change_entries_name_the_key(spec: dict[str, Any], needle: str) -> None:
    text = problems(journey(msg("m"), **spec))
    assert f"{WHERE}: " in text
    assert needle in text


def test_bad_segment_split_and_named_segment_name_the_key() -> None:
    split = {"id": "s", "kind": "split", "on": "segment", "yes": "m", "no": "m"}
    assert "journeys[0] (cart).steps[0] (s).segment: expected a segment name" in problems(
        journey(split, msg("m"))
    )
    unknown = split | {"segment": "ghosts"}
    assert "journeys[0] (cart).steps[0] (s).segment: expected the name of a segment" in problems(
        journey(unknown, msg("m"))
    )
    text = problems(
        journey(msg("m")),
        programme={"segments": {"a": {"segment": "b"}, "b": {"event": "Order Completed"}}},
    )
    assert "programme.segments.a.segment: expected the name of a segment" in text  # b is below


def test_a_campaign_audience_rule_names_file_campaign_and_key() -> None:
    bad = campaign(audience={"all": [{"none": [{"event": "Order Completed", "within_days": -2}]}]})
    with pytest.raises(ConfigError) as caught:
        build_messaging([bad], "c.toml")
    assert "c.toml: campaigns[0] (cart).audience.all[0].none[0].within_days: expected" in (
        str(caught.value)
    )
