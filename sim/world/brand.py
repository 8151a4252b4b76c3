"""Brand scope: which of a person's device pick-ups become sessions with the brand.

The trace is what one brand's CDP sees. Mason picks up his phone dozens of
times a day (social, photos, dating apps, music); only now and then is it the
shop's app. So a person's device use is simulated first (contexts, what is at
hand, a second screen while the TV plays, a look at the phone at night), and
each pick-up becomes a brand session with odds that carry the brand's
category: how many sessions a month its users mean to have on each device
type (Localytics for the phone), spread between heavy and light users like
Ehrenberg's negative binomial (a gamma intensity per person), and whether the
person uses the brand's app at all or only its web site.

The category's numbers live in ``data/brands.toml``; device use apart from
any brand in ``data/device_use.toml``. Both are validated here and every
number needs a ``source`` or ``remark``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from sim.world.chronotype import SleepByAge, parse_sleep_age
from sim.world.people import Person
from sim.world.persona import Persona
from sim.world.places import CONTEXTS
from sim.world.rng import Streams
from sim.world.routine import placed
from sim.world.schema import Reader, load_toml

DATA = Path(__file__).resolve().parents[2] / "data"
BRANDS = DATA / "brands.toml"
DEVICE_USE = DATA / "device_use.toml"
BRAND_DEVICES = ("phone", "tablet", "laptop", "tv", "speaker", "watch", "car")
SCREENS = ("phone", "tablet", "laptop")
DAYS_PER_MONTH = 30.4
WEEK = {"weekday": 5.0 / 7.0, "weekend": 2.0 / 7.0}


@dataclass(frozen=True)
class Category:
    """A brand category's sourced engagement (one table of ``data/brands.toml``)."""

    name: str
    summary: str
    orders: bool
    app_users: float
    shop: dict[str, float]  # share of brand sessions on each screen that look at products
    sessions_per_month: dict[str, float]
    shape: float
    # chance a cart started on each screen is ever bought, against the screens' mean
    cart_completion: dict[str, float] = field(default_factory=dict)
    quick_look: dict[str, float] = field(default_factory=dict)  # one-screen sessions, by screen
    quick_look_dwell: float = 0.0  # think times a quick look stays on its one screen
    # multiplier on a persona's odds that a product view goes into the cart, by screen
    add_to_cart: dict[str, float] = field(default_factory=dict)
    cart_moves: float = 0.0  # chance a waiting cart moves a pick-up to the favourite buying screen


@dataclass(frozen=True)
class Restless:
    """Restless nights (``[restless]`` in ``data/device_use.toml``): who gets up, how long."""

    share: float  # people (adults) who wake and cannot fall asleep again on some nights
    nights: float  # a restless person's share of such nights
    min_age: int
    up_share: float  # such a night gets the person up (else they lie awake: still asleep)
    mu: float  # log-normal minutes up
    sigma: float
    per_hour: float  # pick-ups an hour while up
    use: tuple[tuple[str, float], ...]  # device weights while up (the living room's menu)


@dataclass(frozen=True)
class DeviceUse:
    """Device use apart from the brand (``data/device_use.toml``)."""

    night_habit_share: float  # share of phone users who look at the phone at night at all
    night_odds: float  # a habitual checker's share of nights with a look
    night_checks: float
    tv_mu: float
    tv_sigma: float
    second_screen_per_hour: dict[str, float]
    # the share of TV sittings in which each screen is at hand (the rest: elsewhere)
    second_screen_at_hand: dict[str, float] = field(default_factory=dict)
    audio_share: float = 0.0  # speaker requests that start audio playing on
    audio_mu: float = 0.0  # log-normal minutes of a listening spell
    audio_sigma: float = 0.0
    settle_share: float = 0.0  # home stays with a speaker in the room that put audio on throughout
    chronotype_sd: float = 0.0  # minutes: spread of people's bedtimes around their routine's
    chronotype_max: float = 0.0  # minutes: no own draw further than this from the age's mean
    work_night_sleep: float = 0.0  # minutes: a work night's bedtime shift leaves at least this
    sleep_age: SleepByAge | None = None  # weekend mid-sleep by age and sex ([sleep.age])
    restless: Restless | None = None  # nights some people get up ([restless])

    def at_hand(self, screen: str) -> float:
        """The share of TV sittings with ``screen`` at hand (all of them unless the data says)."""
        return self.second_screen_at_hand.get(screen, 1.0)

    @property
    def tv_mean_hours(self) -> float:
        return float(np.exp(self.tv_mu + self.tv_sigma**2 / 2.0)) / 60.0


def _number(reader: Reader, data: dict[str, Any], key: str, where: str, hi: float) -> float:
    value = data.get(key)
    if isinstance(value, dict):
        reader.known(value, ("value",), f"{where}{key}.")
        return reader.number(value, "value", f"{where}{key}.", 0.0, hi)
    return reader.number(data, key, where, 0.0, hi)


def _shop(reader: Reader, item: dict[str, Any], where: str) -> dict[str, float]:
    table = reader.table(item, "shop", where)
    reader.known(table, SCREENS, f"{where}shop.")
    return {kind: reader.probability(table, kind, f"{where}shop.") for kind in SCREENS}


def _by_screen(reader: Reader, item: dict[str, Any], key: str, where: str) -> dict[str, float]:
    """An optional table of probabilities by screen (phone, tablet, laptop)."""
    if key not in item:
        return {}
    table = reader.table(item, key, where)
    reader.known(table, SCREENS, f"{where}{key}.")
    return {kind: reader.probability(table, kind, f"{where}{key}.") for kind in SCREENS}


def _completion(reader: Reader, item: dict[str, Any], where: str) -> dict[str, float]:
    """Cart completion by the screen a cart was started on, relative to the screens' mean.

    The table gives each screen's published abandonment rate; a cart
    started on a screen is bought (1 - rate) / mean(1 - rate) times the
    persona's checkout odds (Baymard's average over all devices), so the
    phone's carts go through less often and the laptop's more.
    """
    rates = _by_screen(reader, item, "abandonment", where)
    mean = sum(1.0 - rate for rate in rates.values()) / len(rates) if rates else 0.0
    if mean <= 0.0:
        return {}
    return {kind: (1.0 - rate) / mean for kind, rate in rates.items()}


def _add_to_cart(reader: Reader, item: dict[str, Any], where: str) -> dict[str, float]:
    """An optional table of multipliers by screen on the persona's add-to-cart odds."""
    if "add_to_cart" not in item:
        return {}
    table = reader.table(item, "add_to_cart", where)
    reader.known(table, SCREENS, f"{where}add_to_cart.")
    return {kind: reader.number(table, kind, f"{where}add_to_cart.", 0.0, 5.0) for kind in SCREENS}


def _cart_moves(reader: Reader, item: dict[str, Any], where: str) -> float:
    return _optional(reader, item, "cart_moves", where, 1.0)


def _optional(reader: Reader, item: dict[str, Any], key: str, where: str, hi: float) -> float:
    """An optional number from 0 to ``hi`` (0 when absent)."""
    if key not in item:
        return 0.0
    return _number(reader, item, key, where, hi)


def _dwell(reader: Reader, item: dict[str, Any], where: str) -> float:
    """How long a quick look stays on its screen: required where quick looks are, else 0."""
    if "quick_look" in item and "quick_look_dwell" not in item:
        reader.fail(f"{where}quick_look_dwell", "a number of think times (quick_look is set)", None)
        return 0.0
    return _optional(reader, item, "quick_look_dwell", where, 20.0)


def parse_categories(data: dict[str, Any], path: Path | str) -> dict[str, Category]:
    """Validate ``brands.toml``; raise ``ConfigError`` naming file, key and expectation."""
    reader = Reader(path)
    reader.known(data, ("categories",), "")
    reader.check_provenance(data)
    table = reader.table(data, "categories", "")
    out: dict[str, Category] = {}
    for name, raw in table.items():
        where = f"categories.{name}."
        item = raw if isinstance(raw, dict) else {}
        if not isinstance(raw, dict):
            reader.fail(f"categories.{name}", "a table", raw)
        reader.known(
            item,
            (
                "summary",
                "orders",
                "app_users",
                "shop",
                "sessions_per_month",
                "skew",
                "abandonment",
                "quick_look",
                "add_to_cart",
                "cart_moves",
                "quick_look_dwell",
            ),
            where,
        )
        sessions = reader.table(item, "sessions_per_month", where)
        reader.known(sessions, BRAND_DEVICES, f"{where}sessions_per_month.")
        per_month = {
            kind: reader.number(sessions, kind, f"{where}sessions_per_month.", 0.0, 1e6)
            for kind in BRAND_DEVICES
        }
        skew = reader.table(item, "skew", where)
        reader.known(skew, ("shape",), f"{where}skew.")
        out[name] = Category(
            name=name,
            summary=reader.text(item, "summary", where),
            orders=reader.flag(item, "orders", where, True),
            app_users=reader.probability(item, "app_users", where),
            shop=_shop(reader, item, where),
            sessions_per_month=per_month,
            shape=reader.number(skew, "shape", f"{where}skew.", 0.05, 20.0),
            cart_completion=_completion(reader, item, where),
            quick_look=_by_screen(reader, item, "quick_look", where),
            quick_look_dwell=_dwell(reader, item, where),
            add_to_cart=_add_to_cart(reader, item, where),
            cart_moves=_cart_moves(reader, item, where),
        )
    if not out:
        reader.fail("categories", "at least one [categories.NAME] table")
    reader.raise_if_any()
    return out


def parse_device_use(data: dict[str, Any], path: Path | str) -> DeviceUse:
    reader = Reader(path)
    reader.known(
        data,
        (
            "sleep",
            "night",
            "restless",
            "speaker",
            "tv",
            "second_screen_per_hour",
            "second_screen_at_hand",
        ),
        "",
    )
    reader.check_provenance(data)
    night = reader.table(data, "night", "")
    reader.known(night, ("habit_share", "nightly_odds", "checks"), "night.")
    tv = reader.table(data, "tv", "")
    reader.known(tv, ("median_minutes", "sigma"), "tv.")
    sleep = reader.table(data, "sleep", "")
    reader.known(
        sleep,
        ("chronotype_sd_minutes", "max_shift_minutes", "work_night_sleep_minutes", "age"),
        "sleep.",
    )
    speaker = reader.table(data, "speaker", "")
    reader.known(speaker, ("audio_share", "median_minutes", "sigma", "settle_share"), "speaker.")
    rates = reader.table(data, "second_screen_per_hour", "")
    reader.known(rates, SCREENS, "second_screen_per_hour.")
    at_hand = reader.table(data, "second_screen_at_hand", "")
    reader.known(at_hand, SCREENS, "second_screen_at_hand.")
    use = DeviceUse(
        night_habit_share=reader.probability(night, "habit_share", "night."),
        night_odds=reader.probability(night, "nightly_odds", "night."),
        night_checks=_number(reader, night, "checks", "night.", 10.0),
        tv_mu=float(np.log(max(1.0, _number(reader, tv, "median_minutes", "tv.", 600.0)))),
        tv_sigma=_number(reader, tv, "sigma", "tv.", 3.0),
        second_screen_per_hour={
            kind: reader.number(rates, kind, "second_screen_per_hour.", 0.0, 60.0)
            for kind in SCREENS
        },
        second_screen_at_hand={
            kind: reader.probability(at_hand, kind, "second_screen_at_hand.") for kind in SCREENS
        },
        audio_share=reader.probability(speaker, "audio_share", "speaker."),
        audio_mu=float(
            np.log(max(1.0, _number(reader, speaker, "median_minutes", "speaker.", 600.0)))
        ),
        audio_sigma=_number(reader, speaker, "sigma", "speaker.", 3.0),
        settle_share=reader.probability(speaker, "settle_share", "speaker."),
        chronotype_sd=_number(reader, sleep, "chronotype_sd_minutes", "sleep.", 240.0),
        chronotype_max=_number(reader, sleep, "max_shift_minutes", "sleep.", 600.0),
        work_night_sleep=_number(reader, sleep, "work_night_sleep_minutes", "sleep.", 720.0),
        sleep_age=parse_sleep_age(
            reader, reader.table(sleep, "age", "sleep.", required=False), "sleep.age."
        ),
        restless=_restless(reader, reader.table(data, "restless", "")),
    )
    reader.raise_if_any()
    return use


RESTLESS_KEYS = (
    "share",
    "nights",
    "min_age",
    "up_share",
    "median_minutes",
    "sigma",
    "per_hour",
    "use",
)
RESTLESS_DEVICES = ("phone", "tablet", "laptop", "tv", "speaker")  # in the living room


def _restless(reader: Reader, table: dict[str, Any]) -> Restless:
    where = "restless."
    reader.known(table, RESTLESS_KEYS, where)
    use = reader.table(table, "use", where)
    reader.known(use, RESTLESS_DEVICES, f"{where}use.")
    weights = {
        kind: reader.number(use, kind, f"{where}use.", 0.0, 1.0)
        for kind in RESTLESS_DEVICES
        if kind in use
    }
    if not any(weights.values()):
        reader.fail(f"{where}use", "at least one device with a weight above 0", use)
    age = table.get("min_age")
    median = _number(reader, table, "median_minutes", where, 600.0)
    if median < 1.0:
        reader.fail(f"{where}median_minutes", "at least 1 minute", median)
    return Restless(
        share=reader.probability(table, "share", where),
        nights=reader.probability(table, "nights", where),
        min_age=reader.integer(age, "value", f"{where}min_age.", 0, 120)
        if isinstance(age, dict)
        else reader.integer(table, "min_age", where, 0, 120),
        up_share=reader.probability(table, "up_share", where),
        mu=float(np.log(max(1.0, median))),
        sigma=_number(reader, table, "sigma", where, 3.0),
        per_hour=_number(reader, table, "per_hour", where, 60.0),
        use=tuple(weights.items()),
    )


@cache
def categories(path: Path = BRANDS) -> dict[str, Category]:
    return parse_categories(load_toml(path), path)


@cache
def device_use(path: Path = DEVICE_USE) -> DeviceUse:
    return parse_device_use(load_toml(path), path)


@dataclass
class Engagement:
    """One person's relationship with the brand, drawn once."""

    app_user: bool
    intensity: float  # gamma multiplier of the category's monthly sessions (mean 1)
    odds: dict[str, float]  # chance a pick-up of this device type is a brand session


@dataclass
class Brand:
    """The brand of a run: its category, device use apart from it, and each person's engagement."""

    category: Category
    use: DeviceUse
    people: dict[str, Engagement] = field(default_factory=dict)

    def of(self, person: Person, streams: Streams) -> Engagement:
        """The person's engagement, drawn on first need from the person's own brand stream."""
        found = self.people.get(person.id)
        if found is None:
            found = self.people[person.id] = self.draw(person, streams.get("brand", person.id))
        return found

    def draw(self, person: Person, rng: np.random.Generator) -> Engagement:
        category = self.category
        app_user = bool(rng.random() < category.app_users)
        intensity = float(rng.gamma(category.shape, 1.0 / category.shape))
        pickups = pickups_per_day_shared(person, self.use)
        odds: dict[str, float] = {}
        for kind, per_month in category.sessions_per_month.items():
            expected = pickups.get(kind, 0.0)
            wanted = per_month / DAYS_PER_MONTH * intensity
            odds[kind] = min(1.0, wanted / expected) if expected > 0 else 0.0
        return Engagement(app_user, intensity, odds)


_Pickups = tuple[Persona, DeviceUse, dict[str, float]]


def pickups_per_day_shared(person: Person, use: DeviceUse) -> dict[str, float]:
    """:func:`pickups_per_day`, worked out once for everyone with the same persona and kit.

    The average day depends only on the persona's routine, the person's
    mode of getting to work, the device types they own and whether a phone
    of their own is among them: thousands of people share a handful of
    these, so the answer (read, never changed) is shared between them.
    """
    # NOTE: pickups_per_day cached by what it reads, not drawn per person (test_speed_tricks.py).
    owned = frozenset(d.type for d in person.devices)
    personal_phone = any(d.type == "phone" and not d.shared for d in person.devices)
    key = (id(person.persona), id(use), person.commute, owned, personal_phone)
    found = _PICKUPS.get(key)
    if found is None or found[0] is not person.persona or found[1] is not use:
        if len(_PICKUPS) > 4096:
            _PICKUPS.clear()
        found = _PICKUPS[key] = (person.persona, use, pickups_per_day(person, use))
    return found[2]


_PICKUPS: dict[tuple[int, int, str | None, frozenset[str], bool], _Pickups] = {}


def pickups_per_day(person: Person, use: DeviceUse) -> dict[str, float]:
    """How often, on an average day, this person picks up each device type.

    Read off the persona's routine (weekdays and weekends, ignoring jitter
    and trips), the devices the person owns and the ``use`` weights of each
    block, plus the screens picked up while the TV plays and the night looks
    at the phone: the denominator that turns monthly brand sessions into odds
    per pick-up. The pick-ups of a restless night's spell up (``[restless]``)
    are left out: they are drawn per person and night, under 1% of a day's
    pick-ups, so a restless person's brand sessions sit that much above the
    monthly figure.
    """
    owned = {d.type for d in person.devices}
    personal = {d.type for d in person.devices if not d.shared}
    out: dict[str, float] = {}
    for kind, share in WEEK.items():
        for template in person.persona.routine[kind]:
            block = placed(person, template)
            at_hand = CONTEXTS[block.context].at_hand
            weights = {t: w for t, w in block.use.items() if t in owned and t in at_hand}
            total = sum(weights.values())
            if not total or not block.sessions_per_hour:
                continue
            pickups = block.sessions_per_hour * (block.end - block.start) / 60.0 * share
            for kind_, weight in weights.items():
                out[kind_] = out.get(kind_, 0.0) + pickups * weight / total
            tv = pickups * weights.get("tv", 0.0) / total
            for screen in SCREENS:
                if screen in owned and screen in at_hand:
                    rate = use.second_screen_per_hour[screen] * use.at_hand(screen)
                    out[screen] = out.get(screen, 0.0) + tv * use.tv_mean_hours * rate
    if "phone" in personal:
        looks = use.night_habit_share * use.night_odds * use.night_checks
        out["phone"] = out.get("phone", 0.0) + looks
    return out
