"""Chronotypes: people sleep at their own hours, owls past midnight, larks early."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sim.errors import ConfigError
from sim.world.brand import device_use, parse_device_use
from sim.world.chronotype import chronotype
from sim.world.persona import Block, Persona, load_persona
from sim.world.routine import sleep_shifted
from sim.world.scenario import load_scenario
from sim.world.schema import load_toml
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]
DEVICE_USE = ROOT / "data" / "device_use.toml"
NIGHT = 240.0  # minutes: the fewest a work night leaves (the data's work_night_sleep_minutes)

DAY = [
    Block("home.sleep", 0, 390, 0, 0.0, {}),
    Block("home.kitchen", 390, 450, 15, 1.5, {"phone": 1.0}),
    Block("work.office", 450, 1050, 20, 1.0, {"laptop": 1.0}),
    Block("home.living_room", 1155, 1380, 30, 1.0, {"phone": 1.0}),
    Block("home.sleep", 1380, 1440, 0, 0.0, {}),
]


def spans(blocks: list[Block]) -> list[tuple[str, int, int]]:
    return [(b.context, b.start, b.end) for b in blocks]


def test_an_owl_carries_the_evening_past_midnight_and_keeps_the_alarm_on_work_days() -> None:
    assert spans(sleep_shifted(DAY, 90, free=False, night=NIGHT)) == [
        ("home.living_room", 0, 30),
        ("home.sleep", 30, 390),
        ("home.kitchen", 390, 450),
        ("work.office", 450, 1050),
        ("home.living_room", 1155, 1440),
    ]


def test_an_owl_sleeps_in_on_a_free_day_and_a_lark_sleeps_early_every_day() -> None:
    free = spans(sleep_shifted(DAY, 30, free=True, night=NIGHT))
    assert free[0] == ("home.sleep", 0, 420) and free[-1] == ("home.sleep", 1410, 1440)
    lark = spans(sleep_shifted(DAY, -60, free=False, night=NIGHT))
    assert lark[0] == ("home.sleep", 0, 330) and lark[-1] == ("home.sleep", 1320, 1440)


SATURDAY = [
    Block("home.sleep", 0, 510, 0, 0.0, {}),
    Block("home.kitchen", 510, 600, 30, 1.5, {"phone": 1.0}),
    Block("errands", 600, 780, 45, 0.8, {"phone": 1.0}),
    Block("home.living_room", 1170, 1440, 30, 1.0, {"phone": 1.0}),
]


def test_on_a_work_night_an_owls_bedtime_stops_where_the_night_would_fall_short() -> None:
    """Shift 300 with the alarm at 6:30: bed at 2:30 leaves 4 h; the free day sleeps in."""
    work = spans(sleep_shifted(DAY, 300, free=False, night=NIGHT))
    assert work[:2] == [("home.living_room", 0, 150), ("home.sleep", 150, 390)]
    asleep = [end - start for context, start, end in work if context == "home.sleep"]
    assert sum(asleep) == NIGHT  # the night from 2:30 to the alarm
    assert spans(sleep_shifted(DAY, 200, free=False, night=NIGHT))[1] == ("home.sleep", 140, 390)
    free = spans(sleep_shifted(DAY, 300, free=True, night=NIGHT))
    assert free[:2] == [("home.living_room", 0, 240), ("home.sleep", 240, 690)]
    short = spans(sleep_shifted(DAY, 90, free=False, night=500.0))  # the template's own 450 min
    assert short[-1] == ("home.sleep", 1380, 1440) and short[0] == ("home.sleep", 0, 390)


def test_a_free_days_sleep_in_pushes_the_day_later_in_order() -> None:
    """Two hours past the routine's 8:30 waking: breakfast and errands keep their lengths, later;
    a lark's free day moves earlier the same way, a lark's work day keeps its hours."""
    lark = spans(sleep_shifted(DAY, -60, free=False, night=NIGHT))
    assert lark[1:4] == [
        ("home.kitchen", 330, 450),
        ("work.office", 450, 1050),
        ("home.living_room", 1155, 1320),
    ]
    assert spans(sleep_shifted(SATURDAY, 120, free=True, night=NIGHT)) == [
        ("home.living_room", 0, 120),
        ("home.sleep", 120, 630),
        ("home.kitchen", 630, 720),
        ("errands", 720, 900),
        ("home.living_room", 1290, 1440),
    ]
    # five hours on a day whose evening would start past midnight: it starts at 23:59, in order
    pushed = spans(sleep_shifted(DAY, 300, free=True, night=NIGHT))
    assert pushed[2:] == [
        ("home.kitchen", 690, 750),
        ("work.office", 750, 1350),
        ("home.living_room", 1439, 1440),
    ]
    huge = sleep_shifted(DAY, 1300, free=True, night=NIGHT)
    starts = [b.start for b in huge]
    assert starts == sorted(set(starts)) and all(b.end > b.start for b in huge)


def test_a_day_up_until_midnight_has_its_bedtime_at_midnight_shifted_too() -> None:
    """The commuter's Saturday ends in the living room at 24:00: an owl stays up past it, sleeps in
    and lives the day an hour later."""
    assert spans(sleep_shifted(SATURDAY, 60, free=True, night=NIGHT)) == [
        ("home.living_room", 0, 60),
        ("home.sleep", 60, 570),
        ("home.kitchen", 570, 660),
        ("errands", 660, 840),
        ("home.living_room", 1230, 1440),
    ]
    assert spans(sleep_shifted(SATURDAY, -60, free=True, night=NIGHT)) == [
        ("home.sleep", 0, 450),
        ("home.kitchen", 450, 540),
        ("errands", 540, 720),
        ("home.living_room", 1110, 1380),
        ("home.sleep", 1380, 1440),
    ]


def test_a_night_shift_and_a_zero_shift_keep_their_own_hours() -> None:
    night = [DAY[2], DAY[0], DAY[1], DAY[3], DAY[2]]
    assert sleep_shifted(night, 120, free=True, night=NIGHT) is night
    assert sleep_shifted(DAY, 0, free=True, night=NIGHT) is DAY


COMMUTER = load_persona(ROOT / "personas" / "commuter.toml")  # ages 20-64


def draws(age: int, gender: str, n: int = 3000, persona: Persona = COMMUTER) -> list[int]:
    use = device_use()
    return [
        chronotype(
            np.random.default_rng(seed),
            persona,
            age,
            gender,
            use.chronotype_sd,
            use.chronotype_max,
            use.sleep_age,
        )
        for seed in range(n)
    ]


def test_young_adults_go_to_bed_later_than_the_sixty_year_olds_by_the_diaries_difference() -> None:
    curve = device_use().sleep_age
    assert curve is not None
    for gender in ("female", "male"):
        young, old = draws(22, gender), draws(62, gender)
        expected = (curve.mean_hours(22, gender) - curve.mean_hours(62, gender)) * 60.0
        assert 70.0 < expected < 110.0  # Fischer: 20-24 about 1.2-1.7 h after 60-64
        # the two means' standard error is about 2 minutes
        assert float(np.mean(young) - np.mean(old)) == pytest.approx(expected, abs=8.0)


def test_the_spread_narrows_with_age_and_is_wider_in_young_men() -> None:
    use = device_use()
    curve = use.sleep_age
    assert curve is not None
    young_men, old_women = draws(22, "male"), draws(77, "female")
    wide, narrow = curve.spread(22, "male"), curve.spread(77, "female")
    assert wide > 1.2 and narrow < 0.9  # Fischer: 2.61 h for men of 20-24, 1.63 for women of 75-79
    assert float(np.std(young_men)) == pytest.approx(use.chronotype_sd * wide, rel=0.06)
    assert float(np.std(old_women)) == pytest.approx(use.chronotype_sd * narrow, rel=0.06)
    assert np.mean(young_men) - min(young_men) <= use.chronotype_max * wide + 10
    assert max(old_women) - np.mean(old_women) <= use.chronotype_max * narrow + 10


def test_the_typical_sd_is_the_groups_sds_weighted_by_their_diaries() -> None:
    """1.94 h over Fischer's 53,689 weekend diaries; more diaries in a wide group widen it."""
    curve = device_use().sleep_age
    assert curve is not None
    assert sum(g.diaries for g in curve.groups) == 53_689
    assert curve.typical_sd == pytest.approx(1.94, abs=0.005)
    young_men = replace(curve.groups[1], diaries=curve.groups[1].diaries * 10)  # SDs 2.30, 2.61
    wider = replace(curve, groups=(curve.groups[0], young_men, *curve.groups[2:]))
    assert wider.typical_sd > curve.typical_sd + 0.1


def test_a_routines_people_keep_its_bedtime_on_average() -> None:
    """The routine holds its people's mean: the age curve only moves them against each other."""
    use = device_use()
    rng = np.random.default_rng(5)
    genders = list(COMMUTER.genders)
    shifts = [
        chronotype(
            np.random.default_rng(seed),
            COMMUTER,
            int(rng.integers(COMMUTER.age_min, COMMUTER.age_max + 1)),
            str(rng.choice(genders, p=[COMMUTER.genders[g] for g in genders])),
            use.chronotype_sd,
            use.chronotype_max,
            use.sleep_age,
        )
        for seed in range(6000)
    ]
    assert abs(float(np.mean(shifts))) < 3.5  # the mean's standard error is about 1 minute


def test_without_an_age_curve_the_draw_is_the_mctq_spread_alone(tmp_path: Path) -> None:
    text = DEVICE_USE.read_text()
    start, end = text.index("\n[sleep.age]\n"), text.index("\n[night]\n")
    path = tmp_path / "device_use.toml"
    path.write_text(text[:start] + text[end:])
    use = parse_device_use(load_toml(path), path)
    assert use.sleep_age is None and device_use().sleep_age is not None
    flat = [
        chronotype(np.random.default_rng(s), COMMUTER, 22, "male", 80.0, 240.0, use.sleep_age)
        for s in range(3000)
    ]
    assert float(np.std(flat)) == pytest.approx(80.0, rel=0.06)
    assert abs(float(np.mean(flat))) < 5.0 and max(abs(d) for d in flat) <= 240


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("{ from = 20, female = 4.30,", "{ from = 10, female = 4.30,", "sleep.age.groups[1].from"),
        ("female_sd = 2.30,", "female_sd = 0.0,", "sleep.age.groups[1].female_sd"),
        ("male = 4.53,", "male = 28.0,", "sleep.age.groups[1].male"),
        ("{ from = 25, female = 3.74,", "{ from = 25, females = 3.74,", "groups[2].females"),
        ("male = 4.53,", "male = 23.8,", "sleep.age.groups[1].male: expected a mid-sleep in"),
        ("diaries = 2479 }", "diaries = 0 }", "sleep.age.groups[1].diaries"),
        ("groups = [", "typical_sd_hours = 1.98\ngroups = [", "sleep.age.typical_sd_hours"),
        (
            "chronotype_sd_minutes = { value = 80.0,",
            "chronotype_sd_minutes = { value = 80.0, valu = 8.0,",
            "sleep.chronotype_sd_minutes.valu",
        ),
        (
            "work_night_sleep_minutes = { value = 240.0,",
            "work_night_sleep_minutes = { value = -5.0,",
            "sleep.work_night_sleep_minutes.value",
        ),
    ],
)
def test_a_bad_age_curve_fails_naming_file_and_key(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    text = DEVICE_USE.read_text()
    assert old in text
    path = tmp_path / "device_use.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as error:
        parse_device_use(load_toml(path), path)
    assert "device_use.toml" in str(error.value) and expected in str(error.value)


def test_an_age_curve_without_a_source_fails(tmp_path: Path) -> None:
    text = DEVICE_USE.read_text()
    start, end = text.index("\n[sleep.age]\n"), text.index("\n[night]\n")
    section = "\n".join(
        line
        for line in text[start:end].splitlines()
        if not line.startswith(("source = ", "remark = "))
    )
    path = tmp_path / "device_use.toml"
    path.write_text(text[:start] + section + text[end:])
    with pytest.raises(ConfigError) as error:
        parse_device_use(load_toml(path), path)
    assert "sleep.age" in str(error.value) and "source" in str(error.value)


def test_in_a_drawn_population_the_young_sleep_later_and_named_people_keep_their_nights() -> None:
    population = load_scenario(ROOT / "scenarios" / "population.toml")
    people = [
        p
        for h in World(population.with_overrides(persons=6000, seed=11)).households
        for p in h.members
    ]
    commuters = [p for p in people if p.persona.name == "commuter"]
    young = [p.chronotype for p in commuters if p.age < 25]
    old = [p.chronotype for p in commuters if p.age >= 55]
    assert len(young) > 120 and len(old) > 200
    # Fischer: 20-24 about 1.4 h after 55-64 (both sexes); the difference's standard error ~9 min
    assert 55.0 < float(np.mean(young) - np.mean(old)) < 115.0
    named = load_scenario(ROOT / "scenarios" / "day-in-the-life.toml")
    cast = [p for h in World(named).households for p in h.members]
    assert cast and all(p.named and p.chronotype == 0 for p in cast)
