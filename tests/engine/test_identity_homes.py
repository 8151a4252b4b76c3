"""Where a device sleeps (sim/engine/identity/signals.py): beds, meeting places, homes.

Three colleagues, each with a phone that spends its evenings at their own
home and their weekdays at one small office (too few devices for the office
to be public). The office sees phones whose beds are on other networks: it
is a meeting place, nobody's home, and no household forms there. A family
router where one phone hops carrier addresses at night is still the family's home.
"""

from __future__ import annotations

from typing import Any

from sim.engine.identity import IdentityConfig, IdentityGraph
from sim.engine.identity.signals import Signals, bed_of
from tests.engine.test_identity_person import event

OFFICE = "81.30.0.5"
HOMES = {"a": "73.20.0.1", "b": "73.20.0.2", "c": "73.20.0.3"}


def office_week(days: int = 4) -> list[dict[str, Any]]:
    """Each colleague: a phone at home at 21:00 and at the office at 10:00; a laptop at the
    office all day, logged in (so it is on its owner's profile)."""
    events = []
    for name, ip in HOMES.items():
        for day in range(days):
            events.append(event(f"{name}-phone", "phone", day, 21, 0, f"u-{name}", ip=ip))
            events.append(event(f"{name}-phone", "phone", day, 10, 0, f"u-{name}", ip=OFFICE))
            for hour in (9, 11, 14, 16):
                events.append(
                    event(f"{name}-laptop", "laptop", day, hour, 30, f"u-{name}", ip=OFFICE)
                )
    return events


def graph_of(events: list[dict[str, Any]]) -> IdentityGraph:
    graph = IdentityGraph(IdentityConfig())
    graph.observe_all(sorted(events, key=lambda e: (e["timestamp"], e["messageId"])))
    return graph


def signals_of(graph: IdentityGraph) -> Signals:
    state = graph.state
    return Signals(state.devices, state.book.public(), state.config.household_device_types)


def network(graph: IdentityGraph, ip: str) -> int:
    return graph.state.book.networks[ip]


def test_a_phone_sleeps_where_its_evenings_are() -> None:
    graph = graph_of(office_week())
    phone = graph.state.devices["a-phone"]
    assert bed_of(phone, graph.state.book.public()) == network(graph, HOMES["a"])
    assert bed_of(graph.state.devices["a-laptop"], set()) is None  # never used at home time


def test_the_office_is_a_meeting_place_and_nobodys_home() -> None:
    graph = graph_of(office_week())
    signals = signals_of(graph)
    office = network(graph, OFFICE)
    assert office not in graph.state.book.public()  # six devices: not a carrier NAT
    assert signals.meeting_places == {office}
    assert not signals.lived_in(office)
    assert signals.home_of(graph.state.devices["a-laptop"]) is None
    assert signals.home_of(graph.state.devices["a-phone"]) == network(graph, HOMES["a"])


def test_colleagues_do_not_become_a_household() -> None:
    graph = graph_of(office_week())
    graph.finalize()
    profiles = graph.profiles()
    assert [p for p in profiles if p.kind == "household"] == []
    persons = {d: p.profile_id for p in profiles for d in p.device_ids}
    assert len({persons[f"{n}-phone"] for n in HOMES}) == 3
    assert all(persons[f"{n}-laptop"] == persons[f"{n}-phone"] for n in HOMES)


def test_a_phone_on_carrier_addresses_at_night_leaves_the_family_home_a_home() -> None:
    home = HOMES["a"]
    events = []
    for day in range(4):
        events.append(event("mum", "phone", day, 21, 0, "u-mum", ip=home))
        events.append(event("dad", "phone", day, 21, 5, "u-dad", ip=home))
        events.append(event("dad", "phone", day, 23, 0, "u-dad", ip=f"174.1.2.{day + 1}"))
        events.append(event("dad", "phone", day, 23, 30, "u-dad", ip=f"174.1.2.{day + 1}"))
        events.append(event("tab", "tablet", day, 20, 0, ip=home))
    graph = graph_of(events)
    signals = signals_of(graph)
    assert network(graph, home) not in signals.meeting_places
    assert signals.lived_in(network(graph, home))
    graph.finalize()
    households = [p for p in graph.profiles() if p.kind == "household"]
    assert len(households) == 1


def test_a_tv_makes_a_home_whoever_visits() -> None:
    events = office_week()
    events += [event("tv", "tv", day, 13, 0, ip=OFFICE) for day in range(4)]
    graph = graph_of(events)
    signals = signals_of(graph)
    assert signals.meeting_places == set()
    assert signals.lived_in(network(graph, OFFICE))
