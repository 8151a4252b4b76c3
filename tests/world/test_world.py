"""The world: people, devices and Segment events that follow the contracts."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sim.trace.clock import parse_iso
from sim.trace.events import DEVICE_TYPES
from sim.world.life import play
from sim.world.places import CONTEXTS
from sim.world.scenario import Scenario, load_scenario
from sim.world.world import World

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TRUTH_KEYS = ("person_id", "household_id", "persona", "household")


def tiny(**overrides: Any) -> Scenario:
    return load_scenario(FIXTURES / "scenarios" / "tiny.toml").with_overrides(**overrides)


def simulate(scenario: Scenario) -> tuple[World, list[dict[str, Any]]]:
    world = World(scenario)
    events: list[dict[str, Any]] = []
    world.event_emitted.add_listener(lambda event, **_: events.append(event))
    play(world)
    return world, events


def test_population_has_requested_size_and_shared_household_devices() -> None:
    world = World(tiny())
    people = list(world.people())
    assert len(people) == 12
    couples = [h for h in world.households if len(h.members) == 2]
    assert couples, "the tiny scenario draws couples"
    for household in couples:
        speakers = {d.id for p in household.members for d in p.devices if d.type == "speaker"}
        assert len(speakers) == 1, "one speaker shared by the household, not one each"


def test_events_follow_the_segment_shape_and_leak_no_truth() -> None:
    _, events = simulate(tiny(persons=40, days=4))
    assert len(events) > 200
    ids = [e["messageId"] for e in events]
    assert len(ids) == len(set(ids))
    for event in events:
        assert event["type"] in ("identify", "track", "page", "screen", "alias")
        assert event["context"]["device"]["type"] in DEVICE_TYPES
        assert event["timestamp"].endswith("Z") and len(event["timestamp"]) == 24
        assert "anonymousId" in event or "userId" in event
        assert not any(key in event for key in TRUTH_KEYS)
        assert not any(key in event["context"] for key in TRUTH_KEYS)
        if event["type"] == "track":
            assert event["event"]


def test_events_are_emitted_in_time_order_within_the_run() -> None:
    scenario = tiny()
    _, events = simulate(scenario)
    times = [parse_iso(e["timestamp"]) for e in events]
    assert times == sorted(times)
    assert times[0] >= scenario.start
    # A session that began before the end plays out: a few events run past it, not many.
    end = scenario.days * 86400
    past = [t for t in times if (t - scenario.start).total_seconds() >= end]
    assert len(past) < 0.02 * len(times)
    assert (times[-1] - scenario.start).total_seconds() < end + 6 * 3600


def test_watch_and_speaker_never_identify_but_phone_does() -> None:
    _, events = simulate(tiny())
    with_user = Counter(e["context"]["device"]["type"] for e in events if "userId" in e)
    assert with_user["phone"] > 0
    assert with_user["watch"] == 0 and with_user["speaker"] == 0


def test_gym_sessions_are_on_the_watch_and_kitchen_uses_the_speaker() -> None:
    _, events = simulate(tiny())
    workouts = [e for e in events if e.get("event") == "Workout Started"]
    assert workouts and all(e["context"]["device"]["type"] == "watch" for e in workouts)
    assert any(e.get("event") == "Voice Command" for e in events)


def test_household_devices_share_the_home_ip_at_home() -> None:
    world, events = simulate(tiny())
    home_ips = {h.id: h.home_ip for h in world.households}
    speaker_ips = {
        e["context"]["ip"] for e in events if e["context"]["device"]["type"] == "speaker"
    }
    assert speaker_ips <= set(home_ips.values())


def test_cross_device_journeys_happen() -> None:
    world, _ = simulate(tiny(persons=40, days=4))
    paths = [trail for p in world.people() for trail, _, _ in p.journey.paths]
    assert paths, "someone buys something in four days"
    multi = [t for t in paths if len({step.split(":")[0] for step in t}) >= 2]
    assert multi, "some journeys start on one device and finish on another"


def test_tv_time_brings_a_second_screen_from_what_is_at_hand() -> None:
    root = Path(__file__).resolve().parents[2]
    scenario = load_scenario(root / "scenarios" / "day-in-the-life.toml").with_overrides(days=7)
    world = World(scenario)
    play(world)
    seen = world.outcomes
    assert seen.tv_sittings > 0
    assert 0 < seen.tv_with["any"] <= seen.tv_sittings, "most sittings have a second screen"
    assert seen.tv_with["phone"] > 0, "Mason's phone while the Roku plays"
    assert seen.tv_with["tablet"] + seen.tv_with["laptop"] > 0, "or the tablet or laptop at hand"


def test_the_3am_snapshot_counts_each_us_adult_once_a_night_and_who_is_in_bed(
    tmp_path: Path,
) -> None:
    """ATUS's 3 a.m. snapshot: a day worker and a retiree in bed, a night-shift worker at work."""
    root = Path(__file__).resolve().parents[2]
    week = load_scenario(root / "scenarios" / "day-in-the-life.toml")
    world = World(week)
    play(world)
    assert world.outcomes.asleep_at_3 == {"seen": 21, "asleep": 21}, "3 people x 7 nights"
    text = (root / "scenarios" / "day-in-the-life.toml").read_text()
    head, _, tail = text.partition("[[people]]")
    people = "".join(
        f'[[people]]\npersona = "{persona}"\nname = "{name}"\nhousehold = "{name.lower()}"\n\n'
        for persona, name in (("night_worker", "Nora"), ("retiree", "Rita"))
    )
    brand = tail[tail.index("[brand]") :]
    path = tmp_path / "night.toml"
    path.write_text(
        head.replace("days = 7", "days = 2")
        + f'personas = "{root / "personas"}"\n\n'
        + people
        + brand
    )
    world = World(load_scenario(path))
    play(world)
    assert world.outcomes.asleep_at_3 == {"seen": 4, "asleep": 2}, "Nora works the night shift"


def test_a_night_look_is_a_habit_of_some_and_wakes_them_on_a_few_nights() -> None:
    """Half the phone users look at night at all (Deloitte); a habit wakes them ~1 night in 12.

    Nights are counted by the sleeper's own clock (a night runs noon to
    noon), so the two stretches of one night (to midnight, then on to the
    alarm) are one night, drawn once.
    """
    root = Path(__file__).resolve().parents[2]
    scenario = load_scenario(root / "scenarios" / "population.toml")
    world = World(scenario.with_overrides(persons=400, days=7))
    use = world.brand.use
    slept: set[tuple[str, object]] = set()
    looked: set[tuple[str, object]] = set()

    def night(person: Any, at: float) -> tuple[str, object]:
        return person.id, (world.clock.at(at).astimezone(person.zone) - timedelta(hours=12)).date()

    def entered(person: Any, context: str, at: float) -> None:
        if CONTEXTS[context].asleep:
            slept.add(night(person, at))

    def seen(person: Any, device: Any, context: str, at: float) -> None:
        if device.type == "phone" and CONTEXTS[context].asleep:
            looked.add(night(person, at))

    world.context_changed.add_listener(entered)
    world.device_used.add_listener(seen)
    play(world)
    phones = [p for p in world.people() if p.devices_of("phone") and p.night_habit is not None]
    habitual = {p.id for p in phones if p.night_habit}
    assert 0.4 < len(habitual) / len(phones) < 0.6, use.night_habit_share
    assert {person for person, _ in looked} <= habitual, "no look at night without the habit"
    nights = len(looked) / len([1 for person, _ in slept if person in habitual])
    assert 0.065 < nights < 0.1, f"{nights:.3f} of a checker's nights, odds {use.night_odds}"
