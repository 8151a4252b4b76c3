"""People and households: the cast of the simulation.

A person is a persona made particular: a name and an e-mail from Faker in
their own locale, an age, a home time zone and city, a carrier, an employer,
a set of devices and a journey in progress. A household is the people who
share a front door, a router (one home IP) and usually a TV and a speaker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from sim.world.devices import Device
from sim.world.draws import Draws
from sim.world.journey import Journey
from sim.world.persona import VOICE_INTENTS, Block, Persona


@dataclass
class Person:
    id: str
    household_id: str
    persona: Persona
    name: str
    email: str
    phone: str
    age: int
    gender: str
    locale: str
    timezone: str
    city: str
    region: str
    country: str
    carrier: int
    employer: int
    user_id: str
    has_account: bool
    will_sign_up: bool
    opt_in: dict[str, bool]
    rng: np.random.Generator
    commute: str | None = None  # car, transit, walk or home: how this worker gets to work
    chronotype: int = 0  # minutes this person's bedtime lies after their routine's (early: < 0)
    named: bool = False  # a person the scenario names: keeps the nights their seed describes
    devices: list[Device] = field(default_factory=list)
    journey: Journey = field(default_factory=Journey)
    context: str = "home.sleep"
    ips: dict[str, str] = field(default_factory=dict)
    travelling_from: int = 0  # the first and last day of the trip booked last (routine.py);
    travelling_until: int = -1  # none booked: from day 0 until day -1
    draw: Draws = field(init=False, repr=False)
    menus: dict[tuple[str, int], tuple[list[Device], list[float]]] = field(
        default_factory=dict, repr=False
    )  # by (context, id of the block's use): sim/world/life.py device_menu_of
    shifted: dict[tuple[str, str, str], list[Block]] = field(
        default_factory=dict, repr=False
    )  # by yesterday's kind, today's and tomorrow's
    phone_away: bool = False
    listening: Draws | None = field(default=None, repr=False)  # home audio's own stream (life.py)
    # looks at the phone at night at all, and the last night that was drawn (life.py)
    night_habit: bool | None = field(default=None, repr=False)
    night_drawn: int = field(default=-1, repr=False)
    # wakes and cannot sleep again on some nights, and the stream those nights are drawn from
    restless_habit: bool = field(default=False, repr=False)
    restless: Draws | None = field(default=None, repr=False)  # restless.py

    def __post_init__(self) -> None:
        self.draw = Draws(self.rng)

    @cached_property
    def zone(self) -> ZoneInfo:
        """The home time zone (``ZoneInfo`` keeps one object per key, so this is that one)."""
        return ZoneInfo(self.timezone)

    def away(self, day: int) -> bool:
        """On a trip on ``day`` (a trip is booked the day before it starts: routine.py)."""
        return self.travelling_from <= day <= self.travelling_until

    def devices_of(self, kind: str) -> list[Device]:
        return [d for d in self.devices if d.type == kind]

    @cached_property
    def place(self) -> dict[str, str]:
        """Where the person lives, as ``context.location`` shows it (when consented)."""
        return {"city": self.city, "region": self.region, "country": self.country}

    def traits(self) -> dict[str, Any]:
        first, _, last = self.name.partition(" ")
        return {
            "email": self.email,
            "name": self.name,
            "firstName": first,
            "lastName": last,
            "age": self.age,
            "gender": self.gender,
            "phone": self.phone,
            "address": {"city": self.city, "state": self.region, "country": self.country},
        }

    def voice_intent(self) -> str:
        """What the person asks the smart speaker: their persona's mix, else any of the usual asks."""
        weights = self.persona.voice
        if not weights:
            return VOICE_INTENTS[self.draw.below(len(VOICE_INTENTS))]
        point = self.draw.random()
        for intent in VOICE_INTENTS:
            point -= weights.get(intent, 0.0)
            if point < 0:
                return intent
        return max(weights, key=weights.__getitem__)


@dataclass
class Household:
    """People behind one front door: one city, one region, one time zone, one router."""

    id: str
    home_ip: str
    locale: str
    timezone: str
    city: str
    region: str
    members: list[Person] = field(default_factory=list)
    shared_devices: list[Device] = field(default_factory=list)

    def adults(self) -> list[Person]:
        return [p for p in self.members if p.age >= 18]
