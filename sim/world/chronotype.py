"""Chronotype by age and sex: who lies late and who rises early, as the time diaries say.

A 19-year-old's weekend night is centred near 4:30 a.m., a 70-year-old's
near 3 a.m. (Fischer et al. 2017, on the American Time Use Survey's own
diaries); men are later than women before 40 and earlier after. Each
persona's routine already holds the bedtime of the people who live it (the
teen's late weekend, the retiree's early night), so a person moves from that
routine only by where their age and sex put them against the routine's other
people, plus a draw of their own around that: a commuter of 22 goes to bed
about an hour after a commuter of 42, and either may be an owl or a lark.

The curve is ``[sleep.age]`` in ``data/device_use.toml``, read here and
validated with the rest of that file (``sim/world/brand.py``).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from sim.world.persona import Persona
from sim.world.schema import Reader

SEXES = ("female", "male")
GROUP_KEYS = ("from", "female", "female_sd", "male", "male_sd", "diaries")


@dataclass(frozen=True)
class AgeGroup:
    """One age group's weekend mid-sleep (clock hours after midnight) and its SD, by sex."""

    start: int  # the group's youngest age; it runs to the next group's start
    mean: tuple[float, float]  # female, male
    sd: tuple[float, float]
    diaries: int  # the weekend diaries behind the group (both sexes)


@dataclass(frozen=True)
class SleepByAge:
    """Weekend mid-sleep by age and sex: the groups, youngest first."""

    groups: tuple[AgeGroup, ...]

    @property
    def typical_sd(self) -> float:
        """Hours: the typical group's SD, against which a group's SD is read.

        The mean of each group's two SDs (female, male), weighted by the
        group's diaries: the spread within one age, not the whole sample's
        (which also holds the spread between the ages' means).
        """
        return _typical_sd(self.groups)

    def group(self, age: int) -> AgeGroup:
        """The group ``age`` falls in; anyone younger than the first group takes the first."""
        index = bisect_right([g.start for g in self.groups], age) - 1
        return self.groups[max(index, 0)]

    def mean_hours(self, age: int, gender: str) -> float:
        """Mean weekend mid-sleep of this age and sex (neither sex: the mean of the two)."""
        return _by_sex(self.group(age).mean, gender)

    def spread(self, age: int, gender: str) -> float:
        """This age and sex's SD as a share of the typical group's (about 0.8-1.3)."""
        return _by_sex(self.group(age).sd, gender) / self.typical_sd

    def routine_mean(self, persona: Persona) -> float:
        """Mean weekend mid-sleep of everyone living ``persona``'s routine (ages drawn evenly)."""
        return _routine_mean(self, persona.age_min, persona.age_max, tuple(persona.genders.items()))


def _by_sex(values: tuple[float, float], gender: str) -> float:
    if gender in SEXES:
        return values[SEXES.index(gender)]
    return (values[0] + values[1]) / 2.0


@cache
def _typical_sd(groups: tuple[AgeGroup, ...]) -> float:
    total = sum(g.diaries for g in groups)
    return sum(g.diaries * (g.sd[0] + g.sd[1]) / 2.0 for g in groups) / total


@cache
def _routine_mean(
    curve: SleepByAge, age_min: int, age_max: int, genders: tuple[tuple[str, float], ...]
) -> float:
    total = sum(weight for _, weight in genders)
    ages = range(age_min, age_max + 1)
    return sum(
        weight * curve.mean_hours(age, gender) for age in ages for gender, weight in genders
    ) / (total * len(ages))


def chronotype(
    rng: np.random.Generator,
    persona: Persona,
    age: int,
    gender: str,
    sd_minutes: float,
    max_minutes: float,
    curve: SleepByAge | None,
) -> int:
    """Minutes a person's bedtime lies after their routine's (early: below 0).

    Their age and sex group's mean against the routine's people, plus one
    normal draw with the MCTQ's spread scaled to their group's, stopped at
    ``max_minutes`` scaled the same way (3 sd at any age). Without a curve:
    the draw alone.
    """
    if curve is None:
        offset, scale = 0.0, 1.0
    else:
        offset = (curve.mean_hours(age, gender) - curve.routine_mean(persona)) * 60.0
        scale = curve.spread(age, gender)
    own, most = rng.normal(0.0, sd_minutes * scale), max_minutes * scale
    return round(offset + float(max(-most, min(most, own))))


def parse_sleep_age(reader: Reader, table: dict[str, Any], where: str) -> SleepByAge | None:
    """``[sleep.age]``: groups strictly by age, mid-sleep in hours after midnight (0-12),
    SDs above 0, diaries at least 1 (else named problems); an absent table: no curve."""
    if not table:
        return None
    reader.known(table, ("groups",), where)
    rows = table.get("groups")
    if not isinstance(rows, list) or not rows:
        reader.fail(f"{where}groups", "a non-empty list of age groups", rows)
        return None
    groups: list[AgeGroup] = []
    for index, row in enumerate(rows):
        at = f"{where}groups[{index}]."
        if not isinstance(row, dict):
            reader.fail(at.rstrip("."), f"a table with {', '.join(GROUP_KEYS)}", row)
            continue
        reader.known(row, GROUP_KEYS, at)
        start = reader.integer(row, "from", at, 0, 120)
        if groups and start <= groups[-1].start:
            reader.fail(f"{at}from", f"an age above the group before ({groups[-1].start})", start)
        groups.append(
            AgeGroup(
                start=start,
                mean=(
                    _after_midnight(reader, row, "female", at),
                    _after_midnight(reader, row, "male", at),
                ),
                sd=(_positive(reader, row, "female_sd", at), _positive(reader, row, "male_sd", at)),
                diaries=reader.integer(row, "diaries", at, 1, 10_000_000),
            )
        )
    return SleepByAge(groups=tuple(groups))


def _after_midnight(reader: Reader, data: dict[str, Any], key: str, where: str) -> float:
    """A mid-sleep in clock hours after midnight: 0-12 (a mid-sleep before midnight is not read)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 12.0:
        reader.fail(
            f"{where}{key}", "a mid-sleep in clock hours after midnight, between 0 and 12", value
        )
        return 0.0
    return float(value)


def _positive(reader: Reader, data: dict[str, Any], key: str, where: str) -> float:
    value = reader.number(data, key, where, 0.0, 12.0)
    if data.get(key) == 0:
        reader.fail(f"{where}{key}", "hours above 0", data.get(key))
    return max(value, 1e-9)
