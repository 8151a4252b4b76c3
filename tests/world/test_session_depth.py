"""A shopping visit is as deep as any other: the funnel, then other screens, unless it ends in an order."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.world import sessions
from sim.world.devices import Device
from sim.world.draws import Draws
from sim.world.people import Person
from sim.world.scenario import load_scenario
from sim.world.world import World

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class Median(Draws):
    """The person's draws, with every log-normal at its median (screens, think times)."""

    def lognormal(self, mu: float, sigma: float) -> float:
        return math.exp(mu)


def shopper(**category: Any) -> tuple[World, Person]:
    world = World(load_scenario(FIXTURES / "scenarios" / "tiny.toml"))
    world.brand.category = replace(world.brand.category, **category)
    person = next(p for p in world.people() if p.devices_of("laptop") and p.devices_of("phone"))
    person.draw = Median(np.random.default_rng(5))
    return world, person


def visit_events(world: World, person: Person, kind: str) -> list[str]:
    """Play one screen session on the person's ``kind``; the names of what it sent, in order."""
    device = person.devices_of(kind)[0]
    visit = sessions.Visit(world, person, device, 0, 0.0)
    names: list[str] = []

    def post(_person: Person, _device: Device, _t: float, event: Any, _context: Any) -> None:
        names.append(str(event.get("event") or event.get("name")))

    visit.post = post  # type: ignore[assignment]
    sessions.screen_session(visit)
    return names


def test_a_shopping_visit_without_an_order_goes_on_for_the_persona_s_screens() -> None:
    world, person = shopper(
        quick_look={}, shop={"phone": 1.0, "tablet": 1.0, "laptop": 1.0}, add_to_cart={}
    )
    person.persona = replace(person.persona, add_to_cart=0.0)  # looks, never adds
    screens = round(math.exp(person.persona.screens_mu))
    names = visit_events(world, person, "laptop")
    funnel = names.count("Products Searched") + names.count("Product Viewed")
    last = max(i for i, n in enumerate(names) if n == "Product Viewed")
    others = [n for n in names[last:] if n in sessions.SCREENS]  # after the funnel
    assert funnel == 1 + screens // 2
    assert funnel + len(others) == screens, "the rest of the visit is spent on other screens"


def test_an_order_ends_the_visit_at_its_confirmation() -> None:
    world, person = shopper(quick_look={}, cart_moves=0.0)
    journey = person.journey
    journey.add(world.catalog[0], True, 0.0)  # a cart meant to be bought waits
    names = visit_events(world, person, "laptop")  # the persona's favourite buying screen
    assert "Order Completed" in names
    after = names[names.index("Order Completed") :]
    assert not [n for n in after if n in sessions.SCREENS], "no browsing after the order"
