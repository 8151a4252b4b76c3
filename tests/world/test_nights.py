"""No fake wake-up at midnight: a day begins with the night yesterday's evening went to bed into,
and a night is a work night or a free night by the morning after it."""

from __future__ import annotations

from itertools import pairwise, product
from pathlib import Path

import pytest

from sim.world.brand import device_use
from sim.world.life import enter
from sim.world.persona import Block, Persona, load_persona
from sim.world.places import CONTEXTS
from sim.world.routine import (
    DAY_MINUTES,
    Plan,
    bedtime,
    kind_of_day,
    lived_by,
    plan_day,
    shape_of,
    week_kind,
)
from sim.world.scenario import load_scenario
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]
NIGHT = device_use().work_night_sleep
KINDS = ("weekday", "weekend", "travel")
PERSONAS = [load_persona(path) for path in sorted((ROOT / "personas").glob("*.toml"))]
SHIFTS = range(-330, 331, 15)


def asleep(block: Block) -> bool:
    return CONTEXTS[block.context].asleep


def day(persona: Persona, yesterday: str, kind: str, shift: int, tomorrow: str = "") -> list[Block]:
    """A day between yesterday's kind and tomorrow's (by default of its own kind)."""
    return lived_by(persona, (yesterday, kind, tomorrow or kind), None, shift, NIGHT)


def bed_and_wake(before: list[Block], today: list[Block]) -> tuple[int, int]:
    """Yesterday's bedtime (minutes from today's midnight, < 0 before it) and today's waking."""
    bed = before[-1].start - DAY_MINUTES if asleep(before[-1]) else 0
    first = 1 if not asleep(today[0]) else 0
    bed = today[first].start if first else bed
    return bed, today[first].end


def test_a_day_is_its_blocks_in_order_from_midnight_to_midnight() -> None:
    for persona in PERSONAS:
        for yesterday, kind, tomorrow in product(KINDS, KINDS, KINDS):
            for shift in SHIFTS:
                blocks = day(persona, yesterday, kind, shift, tomorrow)
                where = (persona.name, yesterday, kind, tomorrow, shift)
                assert blocks[0].start == 0 and blocks[-1].end == DAY_MINUTES, where
                assert all(b.end > b.start for b in blocks), where
                starts = [b.start for b in blocks]
                assert all(a < b for a, b in pairwise(starts)), where
                ends = [b.end for b in blocks[:-1]]
                assert ends == starts[1:], where


def test_the_night_across_midnight_is_one_stretch_that_yesterday_went_to_bed_into() -> None:
    checked = 0
    for persona in PERSONAS:
        for yesterday in KINDS:
            for kind in KINDS:
                if (
                    shape_of(persona.routine[yesterday]) is None
                    or shape_of(persona.routine[kind]) is None
                ):
                    continue  # a night or evening shift keeps its own hours
                for shift in SHIFTS:
                    where = (persona.name, yesterday, kind, shift)
                    before = day(persona, yesterday, yesterday, shift, kind)
                    today = day(persona, yesterday, kind, shift)
                    if asleep(before[-1]):  # in bed by midnight: today begins asleep
                        assert asleep(today[0]), where
                    elif asleep(today[0]):  # up until midnight, then straight to bed
                        night = bedtime(
                            persona.routine[yesterday],
                            persona.routine[kind],
                            shift,
                            kind == "weekend",
                            NIGHT,
                        )
                        assert night is not None, where
                        bed, _, own = night
                        # a bedtime by midnight, or today's alarm cut a later one back to it
                        alarm = max(DAY_MINUTES + today[0].end - int(NIGHT), own)
                        assert bed <= DAY_MINUTES or (kind != "weekend" and alarm <= DAY_MINUTES), (
                            where
                        )
                    else:  # up past midnight: today begins with exactly that evening, then sleep
                        carried = today[0]
                        assert (carried.context, carried.use) == (
                            before[-1].context,
                            before[-1].use,
                        ), where
                        assert asleep(today[1]) and not asleep(today[2]), where
                    first = 0 if asleep(today[0]) else 1
                    assert asleep(today[first]) and not asleep(today[first + 1]), where
                    if kind != "weekend":  # a work night keeps the floor (or the routine's own)
                        bed, wake = bed_and_wake(before, today)
                        own_bed, own_wake = bed_and_wake(
                            day(persona, yesterday, yesterday, 0, kind),
                            day(persona, yesterday, kind, 0),
                        )
                        assert wake - bed >= min(NIGHT, own_wake - own_bed), where
                    checked += 1
    assert checked > 1000


def test_friday_stays_up_like_a_saturday_and_sunday_goes_to_bed_like_a_monday() -> None:
    """Commuter, shift +30: Friday's evening runs to 00:30, Sunday's goes to bed at 23:30."""
    commuter = next(p for p in PERSONAS if p.name == "commuter")
    friday = day(commuter, "weekday", "weekday", 30, "weekend")
    assert friday[-1].context == "home.living_room" and friday[-1].end == DAY_MINUTES
    saturday = day(commuter, "weekday", "weekend", 30)
    assert (saturday[0].context, saturday[0].end) == ("home.living_room", 30)
    assert asleep(saturday[1])
    sunday = day(commuter, "weekend", "weekend", 30, "weekday")
    assert asleep(sunday[-1]) and sunday[-1].start == 1410
    monday = day(commuter, "weekend", "weekday", 30)
    assert asleep(monday[0]) and monday[0].start == 0


def night_of(plans: list[Plan], n: int) -> float:
    """Minutes from day ``n``'s midnight to the sleep its evening goes to bed into."""
    base = plans[n][0][0]
    later = [s for s, _, b in plans[n] if asleep(b) and s > base + 43_200.0] + [
        s for s, _, b in plans[n + 1] if asleep(b)
    ]
    return (later[0] - base) / 60.0


def test_a_nights_bedtime_follows_the_morning_after_it_as_nhanes_names_nights() -> None:
    """Commuters with a shift of 0-200 min (below the work-night floor of 210): a night
    before a weekday or a trip goes to bed at 23:00 plus the shift, one before a
    Saturday or Sunday at midnight plus the shift (Friday late, Sunday early),
    however the evening's own day was spent."""
    scenario = load_scenario(ROOT / "scenarios" / "population.toml")
    world = World(scenario.with_overrides(persons=1500, days=21, seed=5))
    start, night = world.scenario.start, world.brand.use.work_night_sleep
    seen: dict[tuple[str, str], int] = {}
    for person in world.people():
        if person.persona.name != "commuter" or not 0 <= person.chronotype <= 200:
            continue
        plans, kinds = [], []
        for n in range(21):
            plans.append(plan_day(start, person, n, person.rng, night))
            kinds.append(kind_of_day(start, person, n))
        for n in range(20):
            evening = kinds[n]
            tomorrow = "travel" if kinds[n + 1] == "travel" else week_kind(start, n + 1)
            own = 1440 if tomorrow == "weekend" else 1380
            where = (person.id, n, evening, tomorrow)
            assert night_of(plans, n) == own + person.chronotype, where
            seen[evening, tomorrow] = seen.get((evening, tomorrow), 0) + 1
    assert seen.keys() >= {
        ("weekday", "weekend"),  # Friday
        ("weekend", "weekend"),  # Saturday
        ("weekend", "weekday"),  # Sunday
        ("weekday", "weekday"),
        ("weekday", "travel"),  # the night before a trip
        ("travel", "weekday"),  # a trip's last night
    }, seen


@pytest.mark.parametrize(
    ("name", "kind", "shift"),
    [("retiree", "weekend", 120), ("mason", "weekday", 30), ("homemaker", "weekday", 75)],
)
def test_a_bedtime_at_midnight_ends_the_day_up_and_begins_the_next_asleep(
    name: str, kind: str, shift: int
) -> None:
    persona = next(p for p in PERSONAS if p.name == name)
    evening = day(persona, kind, kind, shift)  # a night between two days of one kind
    assert not asleep(evening[-1]) and evening[-1].end == DAY_MINUTES
    assert asleep(evening[0]) and evening[0].start == 0 and evening[0].end > 60


def test_every_planned_midnight_continues_the_night_before_trips_and_week_ends_included() -> None:
    """Plans laid day after day (trips drawn as the run draws them) join at every midnight."""
    scenario = load_scenario(ROOT / "scenarios" / "population.toml")
    world = World(scenario.with_overrides(persons=600, days=28, seed=3))
    start, night = world.scenario.start, world.brand.use.work_night_sleep
    joins = trips = 0
    for person in world.people():
        kinds: list[str] = []
        plans = []
        for n in range(28):
            plans.append(plan_day(start, person, n, person.rng, night))
            kinds.append(kind_of_day(start, person, n))
        for n in range(1, 28):
            shaped = (person.persona.routine[k] for k in (kinds[n - 1], kinds[n]))
            if any(shape_of(r) is None for r in shaped):
                continue
            (_, end, last), (begin, _, first) = plans[n - 1][-1], plans[n][0]
            assert end == begin, (person.id, n)
            if asleep(last):
                assert asleep(first), (person.id, n)
            elif not asleep(first):
                assert first.context == last.context and asleep(plans[n][1][2]), (person.id, n)
            joins += 1
            trips += "travel" in (kinds[n - 1], kinds[n])
    assert joins > 5000 and trips > 100


def test_the_trips_last_evening_carried_past_midnight_keeps_the_trips_address() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "population.toml")
    world = World(scenario.with_overrides(persons=50, days=4, seed=3))
    person = next(p for p in world.people() if p.persona.name == "commuter")
    after_trip = lived_by(
        person.persona, ("travel", "weekday", "weekday"), person.commute, 120, NIGHT
    )
    carried, bed = after_trip[0], after_trip[1]
    assert carried.context == "travel.hotel" and asleep(bed)
    person.travelling_until = 2  # a trip ends on day 2
    enter(world, person, person.persona.routine["travel"][-2], 2)
    hotel = person.ips["travel"]
    enter(world, person, carried, 3)
    assert person.ips.get("travel") == hotel, "still at the hotel past midnight"
    enter(world, person, bed, 3)
    assert "travel" not in person.ips, "home again"


def test_the_night_shift_before_a_work_day_is_sundays_not_fridays() -> None:
    """The night worker's shift from 23:00 runs into the weekday after it: Sunday leaves
    home at 22:00 for it, Friday stays in the living room until midnight."""
    worker = next(p for p in PERSONAS if p.name == "night_worker")
    friday = day(worker, "weekday", "weekday", 0, "weekend")
    assert (friday[-1].context, friday[-1].end) == ("home.living_room", DAY_MINUTES)
    assert not any(b.context.startswith("work.") and b.start >= 18 * 60 for b in friday)
    sunday = day(worker, "weekend", "weekend", 0, "weekday")
    assert [(b.context, b.start) for b in sunday[-3:]] == [
        ("home.living_room", 1170),
        ("commute.transit", 1320),
        ("work.office", 1380),
    ]
    thursday = day(worker, "weekday", "weekday", 0)
    assert thursday == worker_weekday_placed(worker), "a week night keeps its template"


def worker_weekday_placed(persona: Persona) -> list[Block]:
    from sim.world.routine import placed_for

    return [placed_for(None, b) for b in persona.routine["weekday"]]
