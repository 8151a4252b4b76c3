"""Realism: does the simulated population behave like the published studies say?

Every figure here is an *outcome* counted while the run played (the world's
tally sheet, :mod:`sim.world.outcomes`, added up over the workers) or read
from the tables the run wrote (the journeys before each order). Each is set
beside a published figure with the band its source supports
(``data/published.toml``) as a :class:`~sim.analysis.figures.Figure`. One
definition per figure, here, used by ``summary.json`` and the report alike.

Two families of rows so far: the brand's own (sessions, session length,
conversion by device, carts, cross-device orders, heavy users, messages) and
device use apart from the brand (time of day by device, second screens).
Other modules add theirs to :data:`FIGURE_SOURCES`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.analysis.compare import Z95
from sim.analysis.figures import Figure, count_ratio_interval, mean_interval, wilson
from sim.analysis.published import require
from sim.world.journey import STAGES
from sim.world.people import Person

DAYS_PER_MONTH = 30.4
SETTLED_DAYS = 2  # a cart this old at the end of the run has been bought or abandoned
SWITCH_DEFINITION = (
    "share of person-days, among people owning two or more personal devices (phone, tablet,"
    " laptop, watch, car; shared TVs and speakers apart) who picked up one of them that day,"
    " on which they picked up two or more of them (device use, brand or not, local days)"
)


@dataclass(frozen=True)
class Collected:
    """What a run collected that realism figures are computed from."""

    category: str
    days: int
    outcomes: dict[str, Any]  # the world's tally sheets, added up over the workers
    journeys: list[dict[str, Any]] = field(default_factory=list)  # journeys.jsonl rows


def figures(collected: Collected) -> list[Figure]:
    """Every realism row of the run, in order (the list ``realism.figures`` is made of)."""
    return [row for source in FIGURE_SOURCES for row in source(collected)]


def brand_figures(c: Collected) -> list[Figure]:
    """The brand's and the devices' rows, each only when its published figure applies."""
    out = c.outcomes
    sessions = out.get("sessions", {})
    orders = out.get("orders", {})
    tv = out.get("tv_sittings", 0)
    messages = out.get("messages", {})
    carts = out.get("carts", {})
    settled = sum(n for day, n in carts.items() if int(day) < c.days - SETTLED_DAYS)
    sizes: dict[str, int] = {
        "sessions_per_app_user_month": len(out.get("app_sessions", {})),
        "app_session_minutes": out.get("app_timed", 0),
        "conversion_phone": sessions.get("phone", 0),
        "conversion_tablet": sessions.get("tablet", 0),
        "conversion_laptop": sessions.get("laptop", 0),
        "cart_abandonment": settled,
        "cross_device_orders": len(c.journeys),
        "top20_session_share": len(out.get("person_sessions", {})),
        "tv_second_screen": tv,
        "tv_second_screen_phone": tv,
        "tv_second_screen_laptop": tv,
        "phone_night_share": sum(out.get("phone_eastern_hour", {}).values()),
        "phone_night_unlocks": sum(out.get("phone_eastern_hour", {}).values()),
        "asleep_at_3am": out.get("asleep_at_3", {}).get("seen", 0),
        "speaker_peak_hour": out.get("audio_plays", 0),
        "tv_peak_hour": _uses(out.get("use_by_hour", {}), "tv"),
        "laptop_peak_hour": _uses(out.get("use_by_hour", {}), "laptop"),
        "push_open_ios": _delivered(messages, "push", "ios"),
        "push_open_android": _delivered(messages, "push", "android"),
        "cart_email_open": _delivered(messages, "cart_email"),
        "cart_email_click": _delivered(messages, "cart_email"),
    }
    values: dict[str, tuple[str, float | None]] = {
        "sessions_per_app_user_month": (
            "brand app sessions on phones and tablets per person with at least one, scaled to"
            " a 30.4-day month",
            _per_user_month(out.get("app_sessions", {}), c.days),
        ),
        "app_session_minutes": (
            "mean minutes from the first to the last event of a brand app session on a phone"
            " or tablet",
            _ratio(out.get("app_ms", 0), out.get("app_timed", 0) * 60_000),
        ),
        "conversion_phone": (
            "orders placed on a phone per brand session on a phone",
            _ratio(orders.get("phone", 0), sessions.get("phone", 0)),
        ),
        "conversion_tablet": (
            "orders placed on a tablet per brand session on a tablet",
            _ratio(orders.get("tablet", 0), sessions.get("tablet", 0)),
        ),
        "conversion_laptop": (
            "orders placed on a laptop per brand session on a laptop",
            _ratio(orders.get("laptop", 0), sessions.get("laptop", 0)),
        ),
        "cart_abandonment": (
            f"share of carts (first item added) started at least {SETTLED_DAYS} days before the"
            " run's end that were never bought (later carts may still be bought: left out)",
            abandonment(out.get("carts", {}), out.get("carts_bought", {}), c.days),
        ),
        "cross_device_orders": (
            "share of orders whose touchpoint trail before the order spans two or more device"
            " types",
            cross_device_share(c.journeys),
        ),
        "top20_session_share": (
            "share of all brand sessions made by the 20% of active people with the most",
            top_share(out.get("person_sessions", {}).values(), 0.2),
        ),
        "tv_second_screen": (
            "share of TV sittings during which the viewer picked up a phone, tablet or laptop",
            _ratio(out.get("tv_with", {}).get("any", 0), out.get("tv_sittings", 0)),
        ),
        "tv_second_screen_phone": (
            "share of TV sittings during which the viewer picked up a phone",
            _ratio(out.get("tv_with", {}).get("phone", 0), out.get("tv_sittings", 0)),
        ),
        "tv_second_screen_laptop": (
            "share of TV sittings during which the viewer picked up a laptop",
            _ratio(out.get("tv_with", {}).get("laptop", 0), out.get("tv_sittings", 0)),
        ),
        "phone_night_share": (
            "phone pick-ups of people in the US and Canada by New York hour: the quietest hour"
            " of 03:00-06:00 as a share of the busiest hour",
            night_share(out.get("phone_eastern_hour", {})),
        ),
        "phone_night_unlocks": (
            "phone pick-ups of people in the US and Canada by New York hour: the mean of hours"
            " 03 and 04 (3-5 a.m.) as a share of the mean of hours 17-19 (5-8 p.m.)",
            night_over_evening(out.get("phone_eastern_hour", {})),
        ),
        "asleep_at_3am": (
            "share of US people aged 15 or older in bed (a sleep block of their day, lying awake"
            " or a look at the phone included) at 03:00 local, one snapshot per person and night",
            _ratio(*asleep_counts(out.get("asleep_at_3", {}))),
        ),
        "speaker_peak_hour": (
            "local hour with the most smart-speaker audio playing (seconds of music, radio, news"
            " and podcasts the speakers played, summed by the listener's local hour; Comscore"
            " measured a speaker's data received by hour, which streamed audio dominates)",
            audio_peak_hour(out.get("audio_by_hour", {})),
        ),
        "tv_peak_hour": (
            "local hour with the most TV sittings begun",
            peak_hour(out.get("use_by_hour", {}), "tv"),
        ),
        "laptop_peak_hour": (
            "local hour with the most laptop pick-ups",
            peak_hour(out.get("use_by_hour", {}), "laptop"),
        ),
        "push_open_ios": (
            "push messages opened (tapped) per push delivered to iOS devices",
            message_rate(out.get("messages", {}), "push", "opened", "ios"),
        ),
        "push_open_android": (
            "push messages opened (tapped) per push delivered to Android devices",
            message_rate(out.get("messages", {}), "push", "opened", "android"),
        ),
        "cart_email_open": (
            "abandoned-cart e-mails (campaign topic 'cart') opened per one delivered",
            message_rate(out.get("messages", {}), "cart_email", "opened"),
        ),
        "cart_email_click": (
            "abandoned-cart e-mails (campaign topic 'cart') with a link clicked per one delivered",
            message_rate(out.get("messages", {}), "cart_email", "clicked"),
        ),
    }
    intervals = brand_intervals(c)
    references = require(values)
    rows = []
    for name, (definition, value) in values.items():
        reference = references[name]
        if not reference.applies_to(c.category):
            continue
        rows.append(
            Figure(
                name=name,
                definition=definition,
                value=value,
                published=reference.published,
                low=reference.low,
                high=reference.high,
                source=reference.source,
                n=sizes.get(name),
                interval=intervals.get(name),
                fitted=reference.fitted_in(c.category),
            )
        )
    return rows


Interval = tuple[float, float] | None


def brand_intervals(c: Collected) -> dict[str, Interval]:
    """The 95% sampling interval of each brand row that has one (``Figure.interval``).

    Proportions (orders per session, opens per delivery, sittings with a
    second screen) get Wilson's score interval over their counts; means
    (sessions a month, minutes a session) the normal interval of the mean;
    the night share the interval of a ratio of two Poisson counts; the
    heavy users' share a bootstrap over people. Peak hours get none.
    """
    out = c.outcomes
    sessions, orders = out.get("sessions", {}), out.get("orders", {})
    messages = out.get("messages", {})
    tv, tv_with = out.get("tv_sittings", 0), out.get("tv_with", {})
    carts, bought = out.get("carts", {}), out.get("carts_bought", {})
    settled = [day for day in carts if int(day) < c.days - SETTLED_DAYS]
    started = sum(carts[day] for day in settled)
    never = started - sum(bought.get(day, 0) for day in settled)
    multi = sum(1 for row in c.journeys if len({s.split(":")[0] for s in row["path"]}) >= 2)
    scale = DAYS_PER_MONTH / c.days if c.days > 0 else 0.0
    return {
        "sessions_per_app_user_month": mean_interval(
            [n * scale for n in out.get("app_sessions", {}).values()]
        ),
        "app_session_minutes": moments_interval(
            out.get("app_ms", 0), out.get("app_ms_squares", 0), out.get("app_timed", 0), 60_000
        ),
        "conversion_phone": wilson(orders.get("phone", 0), sessions.get("phone", 0)),
        "conversion_tablet": wilson(orders.get("tablet", 0), sessions.get("tablet", 0)),
        "conversion_laptop": wilson(orders.get("laptop", 0), sessions.get("laptop", 0)),
        "cart_abandonment": wilson(never, started),
        "cross_device_orders": wilson(multi, len(c.journeys)),
        "top20_session_share": bootstrap_top_share(out.get("person_sessions", {}), 0.2),
        "tv_second_screen": wilson(tv_with.get("any", 0), tv),
        "tv_second_screen_phone": wilson(tv_with.get("phone", 0), tv),
        "tv_second_screen_laptop": wilson(tv_with.get("laptop", 0), tv),
        "phone_night_share": night_interval(out.get("phone_eastern_hour", {})),
        "phone_night_unlocks": night_over_evening_interval(out.get("phone_eastern_hour", {})),
        "asleep_at_3am": wilson(*asleep_counts(out.get("asleep_at_3", {}))),
        "push_open_ios": _message_interval(messages, "push", "opened", "ios"),
        "push_open_android": _message_interval(messages, "push", "opened", "android"),
        "cart_email_open": _message_interval(messages, "cart_email", "opened"),
        "cart_email_click": _message_interval(messages, "cart_email", "clicked"),
    }


def moments_interval(total: int, squares: int, n: int, unit: float) -> Interval:
    """The 95% interval of a mean known by its sum and sum of squares, in ``unit``s."""
    if n < 2:
        return None
    mean = total / n
    variance = max(0.0, (squares - n * mean * mean) / (n - 1))
    half = Z95 * math.sqrt(variance / n)
    return (mean - half) / unit, (mean + half) / unit


def bootstrap_top_share(per_person: dict[str, int], top: float, rounds: int = 200) -> Interval:
    """Percentile bootstrap (fixed seed, so the run stays byte-identical) of :func:`top_share`."""
    counts = np.array([per_person[k] for k in sorted(per_person)], dtype=np.int64)
    if counts.size < 2:
        return None
    rng = np.random.default_rng(20)
    shares = sorted(
        top_share(counts[rng.integers(0, counts.size, counts.size)].tolist(), top) or 0.0
        for _ in range(rounds)
    )
    return shares[int(0.025 * rounds)], shares[int(0.975 * rounds) - 1]


def night_interval(by_hour: dict[str, int]) -> Interval:
    """The night share's interval: the quietest night hour over the peak, both Poisson counts."""
    peak = max(by_hour.values(), default=0)
    quiet = min((by_hour.get(f"{h:02d}", 0) for h in (3, 4, 5)), default=0)
    return count_ratio_interval(quiet, peak)


def _message_counts(
    messages: dict[str, int], channel: str, what: str, platform: str | None
) -> tuple[int, int]:
    """``what`` (opened, clicked) and delivered on ``channel`` (and ``platform``)."""

    def count(kind: str) -> int:
        return sum(
            n
            for key, n in messages.items()
            if key.startswith(f"{channel}/")
            and key.endswith(f"/{kind}")
            and (platform is None or key.split("/")[1] == platform)
        )

    return count(what), count("delivered")


def _message_interval(
    messages: dict[str, int], channel: str, what: str, platform: str | None = None
) -> Interval:
    return wilson(*_message_counts(messages, channel, what, platform))


def _uses(use_by_hour: dict[str, int], kind: str) -> int:
    return sum(n for key, n in use_by_hour.items() if key.split("@")[0] == kind)


def _delivered(messages: dict[str, int], channel: str, platform: str | None = None) -> int:
    return _message_counts(messages, channel, "delivered", platform)[1]


FIGURE_SOURCES: list[Callable[[Collected], list[Figure]]] = [brand_figures]


def switch_rate(outcomes: dict[str, Any]) -> dict[str, Any]:
    """The switch rate, per run and per local day: one definition for summary and report.

    Shown without a published reference: Google's 98% (2012) is about
    "sequential screeners", people already known to move between screens,
    which is not the population counted here.
    """
    days = outcomes.get("switch_days", {})
    switched = outcomes.get("switched_days", {})
    total = sum(days.values())
    by_day = [
        {"day": int(day), "people": days[day], "switchers": switched.get(day, 0)}
        for day in sorted(days, key=int)
    ]
    return {
        "value": round(sum(switched.values()) / total, 4) if total else None,
        "definition": SWITCH_DEFINITION,
        "by_day": by_day,
    }


def abandonment(carts: dict[str, int], bought: dict[str, int], days: int) -> float | None:
    """Carts never bought, among carts old enough that their fate is known by the end."""
    settled = [day for day in carts if int(day) < days - SETTLED_DAYS]
    started = sum(carts[day] for day in settled)
    return _ratio(started - sum(bought.get(day, 0) for day in settled), started)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _per_user_month(per_person: dict[str, int], days: int) -> float | None:
    if not per_person or days <= 0:
        return None
    return sum(per_person.values()) / len(per_person) * DAYS_PER_MONTH / days


def cross_device_share(journeys: list[dict[str, Any]]) -> float | None:
    """Orders whose trail touched two or more device types (``phone:search`` -> ``phone``)."""
    if not journeys:
        return None
    multi = sum(1 for row in journeys if len({step.split(":")[0] for step in row["path"]}) >= 2)
    return multi / len(journeys)


def top_share(counts: Iterable[int], top: float) -> float | None:
    """The share of the total held by the largest ``top`` fraction of the counts."""
    ranked = sorted(counts, reverse=True)
    total = sum(ranked)
    if not total:
        return None
    return sum(ranked[: max(1, math.ceil(top * len(ranked)))]) / total


def night_share(by_hour: dict[str, int]) -> float | None:
    peak = max(by_hour.values(), default=0)
    if not peak:
        return None
    return min(by_hour.get(f"{h:02d}", 0) for h in (3, 4, 5)) / peak


NIGHT_HOURS = (3, 4)  # Locket's "3-5 a.m. ET"
EVENING_HOURS = (17, 18, 19)  # Locket's peak "5-8 p.m. ET"


def _hours(by_hour: dict[str, int], hours: tuple[int, ...]) -> int:
    return sum(by_hour.get(f"{h:02d}", 0) for h in hours)


def night_over_evening(by_hour: dict[str, int]) -> float | None:
    """Pick-ups per hour at 3-5 a.m. over pick-ups per hour at 5-8 p.m. (New York hours)."""
    evening = _hours(by_hour, EVENING_HOURS)
    if not evening:
        return None
    scale = len(EVENING_HOURS) / len(NIGHT_HOURS)
    return _hours(by_hour, NIGHT_HOURS) / evening * scale


def night_over_evening_interval(by_hour: dict[str, int]) -> Interval:
    """:func:`night_over_evening`'s interval: a ratio of two Poisson counts, rescaled per hour."""
    interval = count_ratio_interval(_hours(by_hour, NIGHT_HOURS), _hours(by_hour, EVENING_HOURS))
    if interval is None:
        return None
    scale = len(EVENING_HOURS) / len(NIGHT_HOURS)
    return interval[0] * scale, interval[1] * scale


def asleep_counts(snapshots: dict[str, int]) -> tuple[int, int]:
    """In bed at 03:00 local, and people seen then (US, 15+): ATUS's sleeping share at 3 a.m."""
    return snapshots.get("asleep", 0), snapshots.get("seen", 0)


def peak_hour(use_by_hour: dict[str, int], kind: str) -> float | None:
    hours = {
        int(key.split("@")[1]): n for key, n in use_by_hour.items() if key.split("@")[0] == kind
    }
    if not hours or not max(hours.values()):
        return None
    return float(max(sorted(hours), key=lambda h: hours[h]))


def audio_peak_hour(audio_by_hour: dict[str, int]) -> float | None:
    """The local hour with the most seconds of speaker audio (the earliest on a tie)."""
    if not audio_by_hour or not max(audio_by_hour.values()):
        return None
    return float(max(sorted(audio_by_hour, key=int), key=lambda h: audio_by_hour[h]))


def message_rate(
    messages: dict[str, int], channel: str, what: str, platform: str | None = None
) -> float | None:
    """``what`` (opened, clicked) per delivered on ``channel`` (and ``platform``)."""

    return _ratio(*_message_counts(messages, channel, what, platform))


def funnel(people: Iterable[Person]) -> dict[str, int]:
    """How many people reached each journey stage at least once."""
    counts = dict.fromkeys(STAGES, 0)
    for person in people:
        for stage in person.journey.reached:
            counts[stage] += 1
    return counts
