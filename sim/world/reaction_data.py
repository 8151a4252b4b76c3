"""Reaction odds as data: how likely a delivered message is opened, clicked, resented.

The numbers live in ``data/reactions.toml`` with a ``source`` or ``remark``
for each: push direct opens by platform (Appboy 2016: Android 6.1%, iOS
2.0%), e-mail opens and clicks (Mailchimp 2019), and assumed odds for the
channels nobody publishes (a banner over a film, a voice message in the
kitchen). They are a person's *base* odds; context, relevance, the hour and
fatigue move them in :mod:`sim.world.reactions`. A message in a language
not the reader's is opened less (CSA Research 2020), by ``[language] other``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sim.world.schema import Reader, load_toml

REACTIONS = Path(__file__).resolve().parents[2] / "data" / "reactions.toml"
CHANNELS = ("push", "email", "in_app", "sms", "watch", "tv_banner", "speaker_voice", "car_audio")
PLATFORMS = ("ios", "android", "other")
TOPICS = (
    "cart_waiting",
    "cart_gone",
    "recipe_with_speaker",
    "recipe_without_speaker",
    "storm",
    "offer",
    "other",
)
FATIGUE_KEYS = ("per_message_today", "per_annoyance", "annoyance_floor", "max_open")
ANNOYANCE_KEYS = (
    "bad_context",
    "extra_message",
    "decay_per_day",
    "opt_out_per_unit",
    "opt_out_max",
    "churn_at",
)


@dataclass(frozen=True)
class ReactionOdds:
    """Base odds of each reaction, read from ``data/reactions.toml``."""

    open: dict[str, dict[str, float]]  # channel -> platform (or "all") -> odds
    click: dict[str, float]
    latency_minutes: dict[str, float]
    persona_response: dict[str, float]
    annoyance: dict[str, float]
    click_window_hours: float
    other_language: float  # open odds multiplier for a message in a language not the reader's
    relevance: dict[str, float]  # topic (and the person's state) -> multiplier on the open
    night_hours: tuple[int, int]  # local [from, to) hours, wrapping past midnight
    night_factor: float  # open odds multiplier in those hours
    fatigue: dict[str, float]  # FATIGUE_KEYS
    free_shipping_recovers: float = (
        0.0  # a clicked free-shipping offer turns an abandoned cart into one bought
    )
    click_relevance: dict[str, float] = field(default_factory=dict)  # on the click; else relevance

    def open_odds(self, channel: str, platform: str) -> float:
        table = self.open.get(channel, {})
        if "all" in table:
            return table["all"]
        return table.get(platform, table.get("other", 0.1))

    def latency(self, channel: str) -> float:
        return self.latency_minutes.get(channel, self.latency_minutes["other"])

    def at_night(self, hour: int) -> bool:
        """Whether a local ``hour`` falls in the night window (which may wrap past midnight)."""
        start, end = self.night_hours
        return start <= hour < end if start < end else hour >= start or hour < end


def _probabilities(reader: Reader, table: dict[str, Any], where: str) -> dict[str, float]:
    return {
        key: reader.probability(table, key, where)
        for key in table
        if key not in ("source", "remark")
    }


def parse_reactions(data: dict[str, Any], path: Path | str) -> ReactionOdds:
    """Validate ``reactions.toml``; raise ``ConfigError`` naming file, key and expectation."""
    reader = Reader(path)
    reader.check_provenance(data)
    reader.known(
        data,
        (
            "open",
            "click",
            "latency_minutes",
            "persona_response",
            "annoyance",
            "conversion",
            "language",
            "relevance",
            "click_relevance",
            "night",
            "fatigue",
        ),
        "",
    )
    opens = reader.table(data, "open", "")
    reader.known(opens, CHANNELS, "open.")
    open_odds: dict[str, dict[str, float]] = {}
    for channel in CHANNELS:
        table = reader.table(opens, channel, "open.")
        reader.known(table, (*PLATFORMS, "all"), f"open.{channel}.")
        if table and "all" not in table and not all(p in table for p in PLATFORMS):
            reader.fail(f"open.{channel}", f"either 'all' or each of {', '.join(PLATFORMS)}")
        open_odds[channel] = _probabilities(reader, table, f"open.{channel}.")
    clicks = reader.table(data, "click", "")
    reader.known(clicks, CHANNELS, "click.")
    for channel in CHANNELS:
        if channel not in clicks:
            reader.fail(f"click.{channel}", "a probability between 0 and 1")
    latency = reader.table(data, "latency_minutes", "")
    response = reader.table(data, "persona_response", "")
    annoyance = reader.table(data, "annoyance", "")
    reader.known(annoyance, ANNOYANCE_KEYS, "annoyance.")
    conversion = reader.table(data, "conversion", "")
    reader.known(
        conversion,
        ("click_window_hours", "free_shipping_recovers", "source", "remark"),
        "conversion.",
    )
    language = reader.table(data, "language", "")
    reader.known(language, ("other", "source", "remark"), "language.")
    relevance = reader.table(data, "relevance", "")
    reader.known(relevance, TOPICS, "relevance.")
    click_relevance = reader.table(data, "click_relevance", "", required=False)
    reader.known(click_relevance, TOPICS, "click_relevance.")
    night = reader.table(data, "night", "")
    reader.known(night, ("from_hour", "to_hour", "factor"), "night.")
    fatigue = reader.table(data, "fatigue", "")
    reader.known(fatigue, FATIGUE_KEYS, "fatigue.")
    odds = ReactionOdds(
        open=open_odds,
        click=_probabilities(reader, clicks, "click."),
        latency_minutes={
            k: reader.number(latency, k, "latency_minutes.", 0.0, 10_000.0)
            for k in latency
            if k not in ("source", "remark")
        }
        | {"other": reader.number(latency, "other", "latency_minutes.", 0.0, 10_000.0)},
        persona_response={
            k: reader.number(response, k, "persona_response.", 0.0, 10.0)
            for k in response
            if k not in ("source", "remark")
        },
        annoyance={
            k: reader.number(annoyance, k, "annoyance.", 0.0, 100.0) for k in ANNOYANCE_KEYS
        },
        click_window_hours=reader.number(
            conversion, "click_window_hours", "conversion.", 0.0, 10_000.0
        ),
        free_shipping_recovers=reader.probability(
            conversion, "free_shipping_recovers", "conversion."
        ),
        other_language=reader.probability(language, "other", "language."),
        relevance={k: reader.number(relevance, k, "relevance.", 0.0, 10.0) for k in TOPICS},
        click_relevance={
            k: reader.number(click_relevance, k, "click_relevance.", 0.0, 10.0)
            for k in click_relevance
            if k not in ("source", "remark")
        },
        night_hours=(_hour(reader, night, "from_hour"), _hour(reader, night, "to_hour")),
        night_factor=reader.probability(night, "factor", "night."),
        fatigue={
            "per_message_today": reader.number(fatigue, "per_message_today", "fatigue.", 0.0, 10.0),
            "per_annoyance": reader.probability(fatigue, "per_annoyance", "fatigue."),
            "annoyance_floor": reader.probability(fatigue, "annoyance_floor", "fatigue."),
            "max_open": reader.probability(fatigue, "max_open", "fatigue."),
        },
    )
    if odds.night_hours[0] == odds.night_hours[1]:
        reader.fail("night.to_hour", "an hour other than night.from_hour", odds.night_hours[1])
    for key in ("decay_per_day", "opt_out_per_unit", "opt_out_max"):
        if not 0.0 <= odds.annoyance[key] <= 1.0:
            reader.fail(f"annoyance.{key}", "a probability between 0 and 1", odds.annoyance[key])
    reader.raise_if_any()
    return odds


def _hour(reader: Reader, table: dict[str, Any], key: str) -> int:
    """A local hour of the day: a whole number from 0 to 23."""
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
        reader.fail(f"night.{key}", "a whole hour from 0 to 23", value)
        return 0
    return value


@cache
def reaction_odds(path: Path = REACTIONS) -> ReactionOdds:
    return parse_reactions(load_toml(path), path)
