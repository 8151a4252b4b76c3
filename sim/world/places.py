"""Places and contexts: where a person is decides what is at hand.

A context is a little stage set: in the kitchen the phone lies on the counter
and the speaker listens; on the couch the TV is on and the phone is the second
screen; in class the laptop is open and a buzzing phone annoys; driving, only
the car's audio is safe. Each context also says which network a device there
is on, which is what identity stitching later sees as an IP address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Network = Literal["home", "work", "campus", "mobile", "travel"]


@dataclass(frozen=True)
class Context:
    """A place-and-activity a person can be in, and how messages land there."""

    name: str
    place: str
    network: Network
    at_hand: frozenset[str]
    visual_ok: bool = True
    audio_ok: bool = True
    buzz_annoys: bool = False
    asleep: bool = False


def _ctx(name: str, network: Network, at_hand: str, **flags: bool) -> tuple[str, Context]:
    place = name.split(".")[0]
    return name, Context(name, place, network, frozenset(at_hand.split()), **flags)


CONTEXTS: dict[str, Context] = dict(
    [
        _ctx("home.sleep", "home", "", asleep=True, visual_ok=False, audio_ok=False),
        _ctx("home.bedroom", "home", "phone tablet watch laptop"),
        _ctx("home.kitchen", "home", "phone speaker watch tablet"),
        _ctx("home.living_room", "home", "tv phone tablet laptop speaker watch"),
        _ctx("home.office", "home", "laptop phone watch speaker"),
        _ctx("work.office", "work", "laptop phone watch"),
        _ctx("work.cafe", "work", "phone watch", buzz_annoys=True),
        _ctx("commute.transit", "mobile", "phone watch tablet"),
        _ctx("commute.walk", "mobile", "phone watch"),
        _ctx("car.driving", "mobile", "car phone watch", visual_ok=False),
        _ctx("car.parked", "mobile", "car phone watch"),
        _ctx("class", "campus", "laptop phone watch", buzz_annoys=True, audio_ok=False),
        _ctx("campus.library", "campus", "laptop phone watch tablet", audio_ok=False),
        _ctx("gym", "mobile", "watch phone", visual_ok=False),
        _ctx("errands", "mobile", "phone watch"),
        _ctx("social", "mobile", "phone watch"),
        _ctx("travel.airport", "travel", "phone laptop tablet watch"),
        _ctx("travel.hotel", "travel", "laptop phone tablet watch"),
        _ctx("travel.client", "travel", "laptop phone watch", buzz_annoys=True),
    ]
)


# A routine may say "commute" where the way to work depends on the person: each
# worker draws a mode (car, transit, walk, home) from their country's census
# shares, and the block becomes car.driving, commute.transit, commute.walk or
# the home office for them (sim.world.routine).
ABSTRACT = ("commute",)


def context(name: str) -> Context:
    return CONTEXTS[name]
