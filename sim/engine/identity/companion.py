"""Companions: a loose device joins the one person of its home that a second piece of evidence names.

The picture: a flat where a phone and a laptop sleep on the home Wi-Fi and
neither logs in. The home address alone does not say the laptop is the
phone's: brands see only part of a household (a partner who shops only on
the laptop never shows a phone), and on the default population a loose
laptop at a home with exactly one phone was that phone's owner's less than
half the time. So a shared home is where to look, never the answer. The
answer needs a second, independent piece of evidence that ties the device to
one person of that home and to nobody else there:

- **a second network**: besides the home, both were seen on the same
  non-public address (the office, the gym, a friend's flat). Two members of
  one household rarely share an office; colleagues do, but they do not share
  the home as well.
- **an outing**: both were seen on one address away from home within one
  three-hour window (:data:`~sim.engine.identity.layout.WINDOW_MINUTES`) that
  at most :data:`COMPANY` devices used in that window: a tethered watch
  speaks from its phone's carrier address, and a carrier re-draws that
  address for each outing. A window a crowd used (a carrier NAT at rush
  hour, a campus) says nothing.

- **the same ecosystem** (:func:`ecosystem`): a Mac (an Apple laptop) and a
  person holding an iPhone share the home: Apple's computers go with
  Apple's phones, so where exactly one person of the home holds an iPhone,
  the Mac is most likely theirs; likewise an Android tablet and the one
  person of its home holding a phone of its maker (iPads are left out: an
  iPad is the family's as often as one person's);

and, for a watch, **pairing**: a watch goes only to a person holding a phone
it can pair with (an Apple Watch pairs only with an iPhone, other watches
with phones that are not Apple's; a maker the trace does not send matches
anything).

A person of a home is a profile that sleeps there and logged in or holds a
phone (a phone stands for a person). The loose device (never identified, not
a phone, TV or speaker) joins the person when exactly one person of its home
is corroborated; two or none leave it where it was (the household pass then
makes it a member of the household). Homes where more profiles sleep than
``max_household_persons`` times :data:`CROWD_FACTOR` are not homes.

Every statistic here comes from the trace and from the devices that share an
address with the device: the public networks (an address more than
``public_ip_devices`` devices used, counted over all shards) and the crowd
of each (address, window). Every move is logged with rule ``companion``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.engine.identity.layout import meeting_network
from sim.engine.identity.pairing import APPLE, can_pair
from sim.engine.identity.person import PHONE, join_person
from sim.engine.identity.signals import Signals, Summary
from sim.engine.identity.state import ProfileState, root

if TYPE_CHECKING:
    from sim.engine.identity.graphstate import GraphState

COMPANION = "companion"
LAPTOP = "laptop"
TABLET = "tablet"
COMPANY = 3
"""An away-from-home (address, window) used by more devices than this is a crowd, not an outing."""
CROWD_FACTOR = 2
"""A home with more sleeping profiles than this many times ``max_household_persons`` is not a home."""


def companions(graph: GraphState, signals: Signals) -> None:
    """Each loose device joins the one person that two pieces of evidence name.

    ``signals``: the statistics of every device ``graph`` has seen.
    """
    kept = {*graph.config.household_device_types, PHONE}
    profiles = [
        signals.summarise(state)
        for state in graph.registry.live()
        if state.kind == "person" and state.device_ids and state.parent is None
    ]
    nets = {summary.state.number: networks(graph, signals, summary.state) for summary in profiles}
    sleepers: dict[int, int] = {}
    for summary in profiles:
        if summary.home is not None:
            sleepers[summary.home] = sleepers.get(summary.home, 0) + 1
    limit = CROWD_FACTOR * graph.config.max_household_persons
    crowded = {home for home, count in sleepers.items() if count > limit}
    persons: dict[int, list[Summary]] = {}
    for summary in profiles:
        if is_person(signals, summary.state):
            for network in sorted(nets[summary.state.number] - crowded):
                persons.setdefault(network, []).append(summary)
    for summary in profiles:
        state = summary.state
        if state.identified() or state.parent is not None or summary.home in crowded:
            continue
        if any(signals.device_type(d) in kept for d in state.device_ids):
            continue
        mine = nets[state.number]
        seen: set[int] = set()
        named: list[tuple[Summary, str]] = []
        for network in sorted(mine - crowded):
            for person in persons.get(network, ()):
                if person.state.number in seen:
                    continue
                seen.add(person.state.number)
                shared = mine & nets[person.state.number]
                why = corroboration(signals, summary, person, shared) or ecosystem(
                    graph, summary, person, shared
                )
                if why is not None and can_pair(graph.devices, state, person.state):
                    named.append((person, why))
        if len(named) == 1:
            person, why = named[0]
            join_person(graph, root(person.state), state, COMPANION, why)


def is_person(signals: Signals, state: ProfileState) -> bool:
    """A profile that stands for a person: it logged in, or it holds a phone."""
    return state.identified() or any(signals.device_type(d) == PHONE for d in state.device_ids)


def corroboration(signals: Signals, mine: Summary, other: Summary, shared: set[int]) -> str | None:
    """What ties ``mine`` to ``other``: a home of either, and a second network or an outing.

    ``shared``: the non-public networks both used. ``None`` when the home is
    all there is (or not even that).
    """
    homes = {*mine.homes, *other.homes}
    if not shared & homes:
        return None
    if len(shared) >= 2:
        return "shares a home and a second network with this person alone"
    for pair in sorted(mine.ip_hours & other.ip_hours):
        if meeting_network(pair) not in homes and signals.crowd[pair] <= COMPANY:
            return "shares a home and an outing with this person alone"
    return None


def ecosystem(graph: GraphState, mine: Summary, other: Summary, shared: set[int]) -> str | None:
    """A loose device of one maker's ecosystem and the person with that maker's phone
    sharing its home (``None``: not so).

    Apple's computers go with Apple's phones far more often than with others
    (Continuity, iMessage, AirDrop tie them together), so at a home where
    exactly one person holds an iPhone, the Mac is most likely theirs. An
    Android tablet goes with a phone of its own maker (a Galaxy Tab with a
    Galaxy phone: one account, one app store, shared settings), so at a home
    where exactly one person holds a phone of that maker, the tablet is most
    likely theirs. An iPad is left out: it is the family's as often as one
    person's, and iPhones are too common for the maker to single one out.
    """
    if not shared & {*mine.homes, *other.homes}:
        return None
    devices = graph.devices
    cards = [devices[d] for d in mine.state.device_ids if d in devices]
    makers = {c.maker for c in cards}
    if not cards or len(makers) != 1:
        return None
    maker = makers.pop()
    if {c.device_type for c in cards} != {LAPTOP if maker == APPLE else TABLET} or not maker:
        return None
    phones = {
        c.maker
        for c in (devices[d] for d in other.state.device_ids if d in devices)
        if c.device_type == PHONE
    }
    if maker not in phones:
        return None
    if maker == APPLE:
        return "a Mac at the home of the only person with an iPhone"
    return "a tablet at the home of the only person with a phone of its maker"


def networks(graph: GraphState, signals: Signals, state: ProfileState) -> set[int]:
    """The non-public networks ``state``'s devices were seen on (each card's busiest)."""
    found: set[int] = set()
    for device in state.device_ids:
        evidence = graph.devices.get(device)
        if evidence is not None:
            found.update(ip for ip in evidence.ips if ip not in signals.public)
    return found
