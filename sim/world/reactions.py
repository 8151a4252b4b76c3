"""The closed loop: messages reach simulated devices, and people react.

Every simulated minute the loop asks the engine what is due and hands each
delivery to a device in the world. Whoever holds that device decides: Kaylee
in class feels her phone buzz and is annoyed; at the gym she glances at her
watch; Mason in the kitchen listens to the speaker read a recipe; nobody
reads a banner while driving. Relevance (a cart still waiting, a storm where
they live), the local hour and how many messages arrived today shift the odds
of ignoring, glancing, opening, clicking and buying. Annoyance builds up and
decays; past a point people opt out of the channel, and some stop listening
altogether (churn). Every reaction is a Segment event through ``world.emit``,
so the engine learns from it, and a click can become a session and an order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from sim.trace.clock import DAY, MINUTE
from sim.trace.vocabulary import (
    CAMPAIGN_LANDING,
    EMAIL_CLICKED,
    OPENED,
    PUSH_PERMISSION,
    RECEIVED,
    UNSUBSCRIBED,
)
from sim.world.devices import Device
from sim.world.outcomes import platform_of
from sim.world.people import Person
from sim.world.places import CONTEXTS, Context
from sim.world.reaction_data import reaction_odds
from sim.world.sessions import Visit, maybe_checkout, open_app, shop
from sim.world.world import World

Process = Generator[Any, Any, None]
BUZZING = frozenset({"push", "sms", "watch"})
VISUAL = frozenset({"push", "sms", "watch", "in_app", "tv_banner", "email"})
FREE_SHIPPING = "FREESHIP"  # the offer code scenarios use for free shipping on the cart
AUDIO = frozenset({"speaker_voice", "car_audio"})
ODDS = reaction_odds()  # data/reactions.toml: every number with its source
ANNOY = ODDS.annoyance
RELEVANCE = (
    ODDS.relevance
)  # topic -> multiplier (cart_waiting, cart_gone, recipe_*, storm, offer, other)
FATIGUE = ODDS.fatigue
CLICK_WINDOW = ODDS.click_window_hours * 3600.0
OTHER_LANGUAGE = ODDS.other_language  # a message not in the reader's language: data/reactions.toml
INBOX_LOOK = 15 * MINUTE  # assumed: a sleeper's inbox is looked at again this often once up
INBOX_WAIT = DAY  # assumed: an e-mail waits in the inbox at most this long for its reader


class DeliveryView(Protocol):
    """What the loop reads of a message the engine sends to one device."""

    @property
    def campaign(self) -> str: ...
    @property
    def variant(self) -> str: ...
    @property
    def device_id(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def content(self) -> dict[str, Any]: ...


class Ticker(Protocol):
    """The engine, as the loop sees it: what is due at ``now_seconds``."""

    def tick(self, now_seconds: float) -> Sequence[DeliveryView]: ...


class MessengerView(Protocol):
    """The engine's messenger, as the loop sees it: campaigns and the calendar."""

    @property
    def campaigns(self) -> Mapping[str, Any]: ...

    @property
    def decisions(self) -> list[dict[str, Any]]: ...

    def bind_start(self, start: datetime) -> None: ...


@dataclass
class Mood:
    """How one person feels about the brand's messages."""

    annoyance: float = 0.0
    updated: float = 0.0
    received: list[float] = field(default_factory=list)
    churned: bool = False

    def settle(self, now: float) -> None:
        days = (now - self.updated) / DAY
        if days > 0:
            self.annoyance *= ANNOY["decay_per_day"] ** days
            self.updated = now


@dataclass
class Tally:
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    direct_conversions: int = 0
    recovered: int = 0  # abandoned carts a clicked offer turned into carts to buy
    opt_outs: int = 0
    churned: int = 0
    quiet_hours_violations: int = 0
    bad_context: Counter[str] = field(default_factory=Counter)
    by_channel: Counter[str] = field(default_factory=Counter)
    opened_by_variant: Counter[str] = field(default_factory=Counter)
    clicked_by_variant: Counter[str] = field(default_factory=Counter)
    opened_by_device: Counter[str] = field(default_factory=Counter)  # "campaign|device type"
    bad_by_variant: Counter[str] = field(default_factory=Counter)


class MessagingLoop:
    """The SimPy side of messaging: ticks the engine, delivers, reacts, keeps the tally.

    Scoring the tally against the truth is :func:`sim.analysis.messaging.summary`'s job.
    """

    def __init__(self, world: World, engine: Ticker, messenger: MessengerView) -> None:
        self.world = world
        self.engine = engine
        self.messenger = messenger
        self.devices: dict[str, Device] = {}
        self.users: dict[str, list[Person]] = {}
        self.moods: dict[str, Mood] = {}
        self.rngs: dict[str, np.random.Generator] = {}
        self.tally = Tally()
        self.clicks: list[tuple[Person, float, float]] = []  # clicks whose window is open
        self.settled = 0  # clicks whose window closed after an order: conversions counted
        for person in world.people():
            for device in person.devices:
                self.devices[device.id] = device
                self.users.setdefault(device.id, []).append(person)
            self.moods[person.id] = Mood()

    def rng_of(self, person: Person) -> np.random.Generator:
        """The person's reactions stream, made when first needed (few people get a message a day)."""
        # NOTE: made on first need, not for everyone up front; the same stream (test_speed_tricks.py).
        rng = self.rngs.get(person.id)
        if rng is None:
            rng = self.rngs[person.id] = self.world.streams.get("reactions", person.id)
        return rng

    def run(self) -> Process:
        """Every simulated minute: what is due now goes out."""
        env = self.world.env
        while True:
            for delivery in self.engine.tick(env.now):
                env.process(self.deliver(delivery))
            if env.now % DAY == 0.0:
                self._settle(env.now)
            yield env.timeout(MINUTE)

    # ---- one delivery ----------------------------------------------------------------------

    def deliver(self, delivery: DeliveryView) -> Process:
        device = self.devices.get(delivery.device_id)
        if device is None:
            return
        person = self.receiver(device)
        mood = self.moods[person.id]
        rng = self.rng_of(person)
        ctx = CONTEXTS[person.context]
        self.tally.delivered += 1
        self.tally.by_channel[delivery.channel] += 1
        outcomes = self.world.outcomes
        kind = "cart_email" if delivery.channel == "email" and delivery.topic == "cart" else ""
        outcomes.message(kind or delivery.channel, device, "delivered")
        self._check_quiet(person, delivery)
        bad = self.bad_context(ctx, delivery.channel, device)
        if bad:
            self.tally.bad_context[bad] += 1
            self.tally.bad_by_variant[f"{delivery.campaign}/{delivery.variant}"] += 1
        was_churned = mood.churned
        just_churned = self._annoy(mood, bad, self.world.env.now)
        received = RECEIVED.get(delivery.channel)
        if received:
            self._emit(person, device, received, delivery)
        if was_churned or self._opts_out(person, device, delivery, mood, rng, just_churned):
            return
        wait = float(rng.lognormal(np.log(ODDS.latency(delivery.channel)), 0.8)) * MINUTE
        if delivery.channel in ("email", "sms"):
            yield self.world.env.timeout(wait)
            if delivery.channel == "email":
                yield from self.until_awake(person)
            ctx = CONTEXTS[person.context]
        chance = self.open_chance(person, device, ctx, delivery, mood)
        if rng.random() >= chance:
            return
        self.tally.opened += 1
        self.tally.opened_by_variant[f"{delivery.campaign}/{delivery.variant}"] += 1
        self.tally.opened_by_device[f"{delivery.campaign}|{device.type}"] += 1
        outcomes.message(kind or delivery.channel, device, "opened")
        self._emit(person, device, OPENED[delivery.channel], delivery)
        topic = self.topic_of(person, str(delivery.topic))
        relevance = ODDS.click_relevance.get(topic, RELEVANCE[topic])
        if rng.random() >= min(1.0, ODDS.click.get(delivery.channel, 0.0) * relevance):
            return
        self.tally.clicked += 1
        self.tally.clicked_by_variant[f"{delivery.campaign}/{delivery.variant}"] += 1
        outcomes.message(kind or delivery.channel, device, "clicked")
        self.clicks.append((person, self.world.env.now, self._window(delivery)))
        if delivery.channel == "email":
            self._emit(person, device, EMAIL_CLICKED, delivery)
        self.follow(person, device, delivery)

    def until_awake(self, person: Person) -> Process:
        """An e-mail that reaches a sleeper waits in the inbox until they are up.

        A push buzzes once and is stale by morning; an e-mail is read when its
        reader next looks at the inbox, and the look time drawn from the
        latency can fall at 03:00. Klaviyo counts an open whenever it happens
        (opens per delivered e-mail), so the reader decides once awake.
        """
        env = self.world.env
        start = env.now
        while CONTEXTS[person.context].asleep and env.now - start < INBOX_WAIT:
            yield env.timeout(INBOX_LOOK)

    def receiver(self, device: Device) -> Person:
        """The owner, or for a shared TV/speaker whoever is in the room with it."""
        users = self.users[device.id]
        if device.owner_id is not None:
            return next((p for p in users if p.id == device.owner_id), users[0])
        for person in users:
            if device.type in CONTEXTS[person.context].at_hand:
                return person
        return users[0]

    @staticmethod
    def bad_context(ctx: Context, channel: str, device: Device) -> str:
        """Why this delivery lands badly here (``""`` when it does not)."""
        if ctx.asleep and channel in BUZZING:
            return "buzz_while_asleep"
        if ctx.buzz_annoys and channel in BUZZING and device.type in ctx.at_hand:
            return f"buzz_in_{ctx.name}"
        if ctx.name == "car.driving" and channel in VISUAL - {"email"}:
            return "visual_while_driving"
        if channel in AUDIO and not ctx.audio_ok:
            return f"audio_in_{ctx.name}"
        return ""

    def open_chance(
        self, person: Person, device: Device, ctx: Context, delivery: DeliveryView, mood: Mood
    ) -> float:
        """Persona x device-in-context x relevance x hour x fatigue."""
        chance = ODDS.open_odds(delivery.channel, platform_of(device))
        chance *= ODDS.persona_response.get(person.persona.name, 1.0)
        chance *= self._context_factor(ctx, delivery.channel, device)
        chance *= RELEVANCE[self.topic_of(person, str(delivery.topic))]
        chance *= self._language(device, delivery)
        hour = self.world.clock.at(self.world.env.now).astimezone(person.zone).hour
        if ODDS.at_night(hour):
            chance *= ODDS.night_factor
        today = [t for t in mood.received if self.world.env.now - t < DAY]
        chance /= 1.0 + FATIGUE["per_message_today"] * max(0, len(today) - 1)
        damping = max(FATIGUE["annoyance_floor"], 1.0 - FATIGUE["per_annoyance"] * mood.annoyance)
        return min(FATIGUE["max_open"], chance * damping)

    @staticmethod
    def _context_factor(ctx: Context, channel: str, device: Device) -> float:
        if ctx.asleep:
            return 0.0 if channel in AUDIO else 0.3  # seen in the morning, stale
        if channel == "car_audio":
            return 1.0 if ctx.place == "car" else 0.0
        if channel == "speaker_voice":
            if device.type not in ctx.at_hand or not ctx.audio_ok:
                return 0.0
            return 2.5 if ctx.name == "home.kitchen" else 1.0
        if ctx.name == "car.driving" and channel != "email":
            return 0.0
        if channel == "tv_banner":
            return 1.0 if device.type in ctx.at_hand else 0.0
        if ctx.name == "gym" and channel == "watch":
            return 1.5  # the watch gets a glance
        if ctx.buzz_annoys and channel in BUZZING:
            return 0.3
        if channel != "email" and device.type not in ctx.at_hand:
            return 0.4  # seen later in the notification centre
        return 1.0

    @staticmethod
    def _language(device: Device, delivery: DeliveryView) -> float:
        """Messages written per locale say which went out; one not in the reader's costs."""
        sent = (delivery.content or {}).get("locale")
        if not sent:
            return 1.0  # a message without locales: as before languages were modelled
        mine = device.locale.replace("_", "-").split("-")[0]
        return 1.0 if str(sent).split("-")[0] == mine else OTHER_LANGUAGE

    @staticmethod
    def topic_of(person: Person, topic: str) -> str:
        """How the message matters to this person now: its key in ``[relevance]`` of the data."""
        if topic == "cart":
            return "cart_waiting" if person.journey.cart else "cart_gone"
        if topic == "recipe":
            with_speaker = bool(person.devices_of("speaker"))
            return "recipe_with_speaker" if with_speaker else "recipe_without_speaker"
        if topic in ("storm", "offer"):
            return topic
        return "other"

    # ---- annoyance and opt-outs ------------------------------------------------------------

    def _annoy(self, mood: Mood, bad: str, now: float) -> bool:
        """Add this message's annoyance; True when it just tipped the person into churn."""
        mood.settle(now)
        mood.received = [t for t in mood.received if now - t < DAY]  # only the last day counts
        mood.received.append(now)
        today = len(mood.received)
        mood.annoyance += (ANNOY["bad_context"] if bad else 0.0) + ANNOY["extra_message"] * max(
            0, today - 2
        )
        if not mood.churned and mood.annoyance >= ANNOY["churn_at"]:
            mood.churned = True
            self.tally.churned += 1
            return True
        return False

    def _opts_out(
        self,
        person: Person,
        device: Device,
        delivery: DeliveryView,
        mood: Mood,
        rng: np.random.Generator,
        churned: bool,
    ) -> bool:
        """Annoyed people opt out of the channel; a person who churns always does."""
        chance = min(ANNOY["opt_out_max"], ANNOY["opt_out_per_unit"] * mood.annoyance)
        if not churned and rng.random() >= chance:
            return False
        self.tally.opt_outs += 1
        channel = str(delivery.channel)
        if channel in ("push", "watch"):
            person.opt_in["push"] = False
            self.world.emit(
                person,
                device,
                "track",
                event=PUSH_PERMISSION,
                properties={"granted": False, "campaign": delivery.campaign},
            )
        else:
            if channel in ("email", "sms"):
                person.opt_in[channel] = False
            self._emit(person, device, UNSUBSCRIBED, delivery, channel=channel)
        return True

    # ---- the click: a session, maybe an order ---------------------------------------------

    def follow(self, person: Person, device: Device, delivery: DeliveryView) -> None:
        """The deep link opens on a screen device; a cart may turn into an order."""
        screen = self._screen(person, device)
        if screen is None:
            return
        world = self.world
        day = int(world.env.now // DAY)
        before = person.journey.orders
        visit = Visit(world, person, screen, day, world.env.now)
        world.outcomes.brand_session(person.id, screen.type, visit.app)
        visit.wait(float(self.rng_of(person).uniform(5, 60)))
        open_app(visit)
        link = (delivery.content or {}).get("deep_link") or "home"
        visit.view(CAMPAIGN_LANDING, {"deep_link": link, "campaign": delivery.campaign})
        if delivery.topic == "social":
            visit.track("Friends Invited", {"count": 1 + day % 3})
            visit.track("Feature Explored", {"feature": "friends"})
        elif person.journey.cart:
            self._recover(person, delivery)
            maybe_checkout(visit)
            if person.journey.orders == before and delivery.topic == "cart":
                maybe_checkout(visit)  # the offer nudges again
        elif delivery.topic != "social" and world.brand.category.orders:
            shop(visit, 3)
        if person.journey.orders > before:
            self.tally.direct_conversions += 1

    def _recover(self, person: Person, delivery: DeliveryView) -> None:
        """A free-shipping offer on a cart left over its shipping cost makes it one to buy.

        The cart's fate was drawn when its first item went in (Baymard's
        abandonment); without this, a click could only hurry an order that
        was coming anyway, and a cart campaign's lift over no messages
        would be zero by construction.
        """
        journey = person.journey
        content = delivery.content or {}
        if delivery.topic != "cart" or journey.intent or content.get("offer") != FREE_SHIPPING:
            return
        if self.rng_of(person).random() < ODDS.free_shipping_recovers:
            journey.intent = True
            self.tally.recovered += 1

    def _window(self, delivery: DeliveryView) -> float:
        campaign = self.messenger.campaigns.get(delivery.campaign)
        goal = getattr(campaign, "goal", None)
        return float(goal.window) if goal is not None else CLICK_WINDOW

    def click_conversions(self) -> int:
        """Clicks followed by an order of the same (true) person within the goal window."""
        return self.settled + sum(1 for click in self.clicks if self._converted(*click))

    def _settle(self, now: float) -> None:
        """Count the clicks whose window has closed, and forget them (memory stays flat)."""
        closed = [c for c in self.clicks if c[1] + c[2] < now]
        if closed:
            self.settled += sum(1 for click in closed if self._converted(*click))
            self.clicks = [c for c in self.clicks if c[1] + c[2] >= now]

    @staticmethod
    def _converted(person: Person, at: float, window: float) -> bool:
        return any(at < when <= at + window for _, when, _ in person.journey.paths)

    @staticmethod
    def _screen(person: Person, device: Device) -> Device | None:
        if device.type in ("phone", "tablet", "laptop"):
            return device
        at_hand = CONTEXTS[person.context].at_hand
        for kind in ("phone", "laptop", "tablet"):
            for candidate in person.devices_of(kind):
                if kind in at_hand:
                    return candidate
        return None

    # ---- bookkeeping -----------------------------------------------------------------------

    def _emit(
        self, person: Person, device: Device, name: str, delivery: DeliveryView, **extra: Any
    ) -> None:
        properties = {
            "campaign": delivery.campaign,
            "variant": delivery.variant,
            "channel": delivery.channel,
        } | extra
        self.world.emit(person, device, "track", event=name, properties=properties)

    def _check_quiet(self, person: Person, delivery: DeliveryView) -> None:
        """Ground-truth check: the person's real local clock against the campaign's quiet hours."""
        campaign = self.messenger.campaigns.get(delivery.campaign)
        if campaign is None:
            return
        local = self.world.clock.at(self.world.env.now).astimezone(person.zone)
        if campaign.quiet.contains(local.hour * 60 + local.minute):
            self.tally.quiet_hours_violations += 1

    def rows(self) -> list[dict[str, Any]]:
        """Every decision, sent or suppressed: the lines of ``messages.jsonl``."""
        return list(self.messenger.decisions)


def attach(world: World, engine: Ticker, messenger: MessengerView) -> MessagingLoop:
    """Start the closed loop on ``world``: ``engine`` ticks, ``messenger`` is its messaging."""
    messenger.bind_start(world.scenario.start)
    loop = MessagingLoop(world, engine, messenger)
    world.env.process(loop.run())
    return loop
