"""Networks: which public IP address a device shows the world.

At home every device behind the router shares the household's address, so
the family's phones, laptop, TV and speaker all look alike from outside.
At work, colleagues share the office address; on a campus, thousands share a
handful. On the cellular network, carriers hide many subscribers behind each
address (carrier-grade NAT), so a phone's address says little about its
owner. Hotels and airports are the same for travellers. This is what makes
probabilistic stitching honest work.

Some devices have no address of their own. A Bluetooth watch sends through
its paired phone, so its events leave from wherever the phone is connected; a
cellular watch uses its own radio only when the phone is out of reach. A car
projecting the phone (CarPlay, Android Auto) is the phone's own app on a car
screen; only a car with an embedded modem and its own app has an address of
its own. The shares of each path come from ``data/network.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.world.census import Paths
from sim.world.devices import Device
from sim.world.draws import Draws
from sim.world.numpy_draws import NumpyDraws
from sim.world.people import Person
from sim.world.places import CONTEXTS

PUBLIC_FIRST_OCTETS = (
    24,
    50,
    67,
    68,
    71,
    73,
    76,
    81,
    86,
    92,
    98,
    109,
    174,
    176,
    185,
    188,
    203,
    212,
)


OCTET_BOUNDS = ((0, len(PUBLIC_FIRST_OCTETS)), (1, 255), (1, 255), (1, 255))  # the four draws


def public_ip(rng: np.random.Generator | NumpyDraws) -> str:
    """A public address: a first octet from the list, three more from 1-254, one draw each.

    The draws of ``rng.choice(PUBLIC_FIRST_OCTETS)`` then ``rng.integers(1, 255, size=3)``.
    """
    # NOTE: numpy's choice and size= draws as four plain integer draws, without their checks (test_build_speed.py).
    first, a, b, c = (int(rng.integers(low, high)) for low, high in OCTET_BOUNDS)
    return f"{PUBLIC_FIRST_OCTETS[first]}.{a}.{b}.{c}"


def public_ips(rng: np.random.Generator, count: int) -> list[str]:
    """``[public_ip(rng) for _ in range(count)]``: the same addresses, drawn in one call.

    numpy draws each element of a bounded-integer array with its own bounds,
    one after another from the same stream, exactly as separate calls would.
    """
    # NOTE: a pool's 4 x count octet draws made in one numpy call (test_build_speed.py).
    low = np.tile([low for low, _ in OCTET_BOUNDS], count)
    high = np.tile([high for _, high in OCTET_BOUNDS], count)
    octets = rng.integers(low, high).reshape(count, len(OCTET_BOUNDS)).tolist()
    return [f"{PUBLIC_FIRST_OCTETS[first]}.{a}.{b}.{c}" for first, a, b, c in octets]


@dataclass(frozen=True)
class NetworkPlan:
    """Sizes of the shared address pools (scenario knobs with provenance)."""

    carriers: int = 3
    carrier_pool: int = 64
    campus_pool: int = 8
    travel_pool: int = 40
    employer_size: int = 25


class Addresses:
    """Deterministic pools of public addresses for one world."""

    def __init__(self, rng: np.random.Generator, plan: NetworkPlan, persons: int) -> None:
        self.plan = plan
        self.carrier_ips = [public_ips(rng, plan.carrier_pool) for _ in range(plan.carriers)]
        self.campus_ips = public_ips(rng, plan.campus_pool)
        self.travel_ips = public_ips(rng, plan.travel_pool)
        employers = max(1, persons // max(1, plan.employer_size))
        self.employer_ips = public_ips(rng, employers)  # 40,000 offices in a 1M-person run

    def carrier(self, carrier: int, draw: Draws) -> str:
        pool = self.carrier_ips[carrier % len(self.carrier_ips)]
        return pool[draw.below(len(pool))]

    def campus(self, draw: Draws) -> str:
        return self.campus_ips[draw.below(len(self.campus_ips))]

    def travel(self, draw: Draws) -> str:
        return self.travel_ips[draw.below(len(self.travel_ips))]

    def employer(self, index: int) -> str:
        return self.employer_ips[index % len(self.employer_ips)]


def address_of(person: Person, device: Device, home_ip: str) -> str:
    """The public address ``device`` shows where ``person`` is now."""
    if device.type == "watch" and device.relay is not None:
        if device.path == "cellular" and person.phone_away:
            return person.ips.get("watch") or home_ip
        return address_of(person, device.relay, home_ip)
    if device.type == "car" and device.path == "embedded":
        return person.ips.get("car") or person.ips.get("mobile") or home_ip
    network = CONTEXTS[person.context].network
    if device.type == "car":
        network = "mobile"
    if network == "home" and device.type == "phone" and person.ips.get("phone_on_cell") == "1":
        network = "mobile"
    return person.ips.get(network) or home_ip


def on_context(person: Person, addresses: Addresses, paths: Paths) -> None:
    """Entering a context: does a cellular watch lose its phone, which address has the car modem?"""
    for device in person.devices:
        if device.path == "cellular":
            away = paths.watch_away.get(person.context, 0.0)
            person.phone_away = away > 0.0 and person.draw.random() < away
            if person.phone_away:
                person.ips["watch"] = addresses.carrier(person.carrier, person.draw)
        elif device.path == "embedded" and CONTEXTS[person.context].place == "car":
            person.ips["car"] = addresses.carrier(device.carrier, person.draw)
