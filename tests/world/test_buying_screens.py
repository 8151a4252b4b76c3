"""Where people buy: every screen a persona owns can take an order (``journey.buy_on``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.world import sessions
from sim.world.devices import Device
from sim.world.draws import Draws
from sim.world.people import Person
from sim.world.persona import load_personas
from sim.world.scenario import load_scenario
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ("phone", "tablet", "laptop")


class Sure(Draws):
    """Every coin comes up heads: the checkout happens wherever the persona can buy at all."""

    def random(self) -> float:
        return 0.0


def test_every_screen_a_persona_owns_has_a_buying_weight() -> None:
    """A screen someone shops on but can never buy on sends every cart started there elsewhere.

    The retiree's laptop ("an older laptop for e-mail and the odd order") had
    weight 0: every cart a retiree filled on it was bought on the tablet.
    """
    for name, persona in load_personas(ROOT / "personas").items():
        owned = {d.type for d in persona.devices if d.type in SCREENS}
        nowhere = sorted(kind for kind in owned if persona.buy_on.get(kind, 0.0) <= 0.0)
        assert not nowhere, f"{name} owns {nowhere} but never buys there"


def test_a_retiree_with_a_laptop_buys_the_cart_on_it() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(persons=400)
    world = World(scenario)
    world.brand.category = replace(world.brand.category, quick_look={}, cart_moves=0.0)
    retiree = next(
        p for p in world.people() if p.persona.name == "retiree" and p.devices_of("laptop")
    )
    retiree.draw = Sure(np.random.default_rng(5))
    retiree.journey.add(world.catalog[0], True, 0.0)  # a cart meant to be bought waits
    laptop = retiree.devices_of("laptop")[0]
    names: list[str] = []

    def post(_person: Person, device: Device, _t: float, event: Any, _context: Any) -> None:
        names.append(f"{device.type}:{event.get('event') or event.get('name')}")

    visit = sessions.Visit(world, retiree, laptop, 0, 0.0)
    visit.post = post  # type: ignore[assignment]
    sessions.maybe_checkout(visit)
    assert "laptop:Order Completed" in names
    assert retiree.journey.orders == 1 and not retiree.journey.cart
    assert world.outcomes.orders["laptop"] == 1
