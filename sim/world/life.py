"""A person's life as a SimPy process: days of contexts, pick-ups within them.

Each person walks through their day plan block by block. Inside a block,
device pick-ups arrive like a Poisson stream at the block's rate; each picks
the device that fits the context (the speaker in the kitchen, the car while
driving, the laptop in class). Most pick-ups are the person's own business
(social apps, messages, music) and leave no trace; a few are sessions with
the brand (:mod:`sim.world.brand`) and play out in :mod:`sim.world.sessions`.
A TV sitting lasts a while, and the phone, tablet or laptop at hand is picked
up during it at the person's own pace: the second screen is an outcome. At
night some people wake and look at their phone.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from sim.world.brand import SCREENS, DeviceUse
from sim.world.devices import Device
from sim.world.draws import Draws
from sim.world.outcomes import HOUR_KEYS
from sim.world.people import Person
from sim.world.persona import Block
from sim.world.places import CONTEXTS
from sim.world.restless import restless_night
from sim.world.routine import Plan, kind_of_day, local_midnight, plan_day
from sim.world.sessions import session, watch
from sim.world.world import World

Process = Generator[Any, Any, None]
Menu = tuple[list[Device], list[float]]  # the devices at hand in a block, cumulative weights
WORK_CONTEXTS = ("work.office", "work.cafe", "travel.client", "home.office")
EASTERN = ZoneInfo("America/New_York")  # Chitika reports North American traffic by Eastern hour
STAY_ROOMS = ("home.living_room", "home.office")  # rooms one stays in, not passes through
FREE_DAY_ROOMS = (*STAY_ROOMS, "home.kitchen")  # on a free day every kitchen block is a stay
ATUS_MIN_AGE = 15  # the American Time Use Survey's universe: persons 15 and over
NIGHT_MARGIN = 1800.0  # no night look in the first and last half hour of sleep


def start_lives(world: World) -> None:
    """Put every person's life on the world's SimPy calendar (the run does this, once)."""
    for person in world.people():
        world.env.process(live(world, person))


def play(world: World) -> None:
    """Every day of the world at once: lives started, the clock run to the end, trays drained."""
    start_lives(world)
    world.step_until(world.end)
    world.finish()


def live(world: World, person: Person) -> Process:
    env = world.env
    begin, night = world.scenario.start, world.brand.use.work_night_sleep
    for day in range(world.scenario.days + 1):
        plan = restless_night(world, person, plan_day(begin, person, day, person.rng, night), day)
        asleep_at_3(world, person, plan, day)
        for start, end, block in plan:
            if end <= env.now:
                continue
            if start > env.now:
                yield env.timeout(start - env.now)
            enter(world, person, block, day)
            settle(world, person, block, end, day)
            yield from spend(world, person, block, end, day)


def enter(world: World, person: Person, block: Block, day: int) -> None:
    """Step into a context: pick the addresses this person's devices show there.

    The trip's address stays while the person is in a trip's context: the
    day after a trip can begin in the hotel evening its last night carried
    past midnight.
    """
    draw = person.draw
    addresses = world.addresses
    person.context = block.context
    if person.away(day):
        if "travel" not in person.ips:
            person.ips["travel"] = addresses.travel(draw)
    elif CONTEXTS[block.context].network != "travel":
        person.ips.pop("travel", None)
    person.ips["work"] = addresses.employer(person.employer)
    person.ips["campus"] = addresses.campus(draw)
    person.ips["mobile"] = addresses.carrier(person.carrier, draw)
    person.ips["phone_on_cell"] = "1" if draw.random() < 0.15 else "0"
    world.context_changed.fire(person=person, context=block.context, at=world.env.now)


def spend(world: World, person: Person, block: Block, end: float, day: int) -> Process:
    """Pick-ups arrive as a Poisson stream; the person wakes once per pick-up.

    The next arrival is drawn from the moment the last one ends (a brand
    session or a TV sitting holds the person), and one that runs past the
    block's end holds the person until it is over.
    """
    env = world.env
    rate = block.sessions_per_hour / 3600.0
    free = env.now
    if rate > 0:
        mean = 1.0 / rate
        draw = person.draw
        # NOTE: looked up once per block: a person's devices and brand engagement never change
        # during a run (test_speed_tricks.py: the odds and menus before and after a run).
        menu = device_menu_of(person, block)
        odds = world.brand.of(person, world.streams).odds
        while (start := free + draw.exponential(mean)) < end:
            yield env.timeout(start - env.now)
            device = choose_device(world, person, block, menu)
            if device is None:
                free = start
            elif device.type == "tv":
                free = yield from sit(world, person, device, day)
            else:
                free = max(start, pick_up(world, person, device, day, until=end, odds=odds))
    elif CONTEXTS[block.context].asleep:
        yield from night(world, person, end, day)
    if max(end, free) > env.now:
        yield env.timeout(max(end, free) - env.now)


def pick_up(
    world: World,
    person: Person,
    device: Device,
    day: int,
    until: float | None = None,
    odds: dict[str, float] | None = None,
) -> float:
    """The person picks up ``device`` now; returns when they put it down again.

    Every pick-up is counted (the device-use clock); only those that are
    sessions with the brand play out as events. A request to the speaker
    may start audio that plays on until the person leaves the room (``until``,
    the end of the routine block). ``odds`` are the person's brand odds by
    device type, when the caller has them at hand (else they are looked up).
    """
    now = world.env.now
    hours = world.hours
    world.outcomes.picked_up(person, device, day, hours.hour(person.zone, now))
    if device.type == "speaker":
        listen(world, person, device, now, until)
    if world.device_used:
        world.device_used.fire(person=person, device=device, context=person.context, at=now)
    if device.type == "phone" and person.country in ("US", "CA"):
        world.outcomes.phone_eastern_hour[HOUR_KEYS[hours.hour(EASTERN, now)]] += 1
    if odds is None:
        odds = world.brand.of(person, world.streams).odds
    if person.draw.random() >= odds.get(device.type, 0.0):
        return now
    return session(world, person, device, day)


def listen(world: World, person: Person, speaker: Device, now: float, until: float | None) -> None:
    """Some speaker requests start music, radio or news, which plays on while the person stays.

    The seconds of audio are tallied by local hour: a speaker's day as
    Comscore saw it, in data received hour by hour.
    """
    use = world.brand.use
    draw = person.draw
    if draw.random() >= use.audio_share:
        return
    end = now + draw.lognormal(use.audio_mu, use.audio_sigma) * 60.0
    if until is not None:
        end = min(end, until)
    world.outcomes.audio_plays += 1
    tally_audio(world, person, speaker, now, end)


def settle(world: World, person: Person, block: Block, end: float, day: int) -> None:
    """Settling into a room at home with a speaker, some put audio on that plays while they stay.

    A retiree's morning in the living room with the radio on, a parent's
    housework with a playlist: most at-home listening is background to
    something else, not a string of requests. Each waking home block with
    a speaker in its ``use`` table has audio on throughout with the share of
    waking time people spend listening (``[speaker] settle_share``), drawn
    from a stream of the person's own, so nothing else moves with it. Who is
    home in the daytime (retirees, stay-at-home parents, the home office) is
    what makes the daytime hours of speaker audio, as Comscore measured.
    On a free day the kitchen is a room one stays in too, every block of it:
    the long weekend breakfast with the radio on (and a family's weekend
    dinner), which makes weekend mornings the speaker's busiest time (Comscore: on weekends most in the morning, on weekdays
    after work).
    """
    share = world.brand.use.settle_share
    if share <= 0 or block.context not in FREE_DAY_ROOMS:
        return
    if block.context not in STAY_ROOMS and not free_day(world, person, day):
        return
    speakers = [d for d in device_menu_of(person, block)[0] if d.type == "speaker"]
    if not speakers:
        return
    if person.listening is None:
        person.listening = Draws(world.streams.get("home_audio", person.id))
    if person.listening.random() >= share:
        return
    world.outcomes.audio_plays += 1
    tally_audio(world, person, speakers[0], world.env.now, end)


def free_day(world: World, person: Person, day: int) -> bool:
    """A weekend day at home (not a trip): the day ``plan_day`` lived as the weekend routine."""
    return kind_of_day(world.scenario.start, person, day) == "weekend"


def tally_audio(world: World, person: Person, speaker: Device, start: float, end: float) -> None:
    """Seconds of ``speaker`` audio from ``start`` to ``end`` by local hour, counted once.

    Comscore counted a speaker's data: when two people in the kitchen each
    want the radio on, the speaker plays it once, so a spell counts only
    past the end of what the speaker was already playing.
    """
    t = max(start, speaker.playing_until)
    speaker.playing_until = max(speaker.playing_until, end)
    while t < end:
        local = world.clock.at(t).astimezone(person.zone)
        into_hour = local.minute * 60 + local.second + local.microsecond / 1e6
        chunk = min(end - t, 3600.0 - into_hour)
        world.outcomes.audio(local.hour, chunk)
        t += max(chunk, 1e-3)


def sit(world: World, person: Person, tv: Device, day: int) -> Generator[Any, Any, float]:
    """A TV sitting: the show plays, and the screens at hand are picked up meanwhile.

    Each phone, tablet or laptop the context puts at hand (the family laptop
    on the couch too) is picked
    up at its own rate (``data/device_use.toml``); whether this sitting had
    a second screen, and which, is counted as an outcome. Returns (as the
    generator's value) when the sitting ends.
    """
    env = world.env
    use = world.brand.use
    draw = person.draw
    minutes = draw.lognormal(use.tv_mu, use.tv_sigma)
    start = env.now
    until = start + minutes * 60.0
    world.outcomes.picked_up(person, tv, day, world.hours.hour(person.zone, start))
    if world.device_used:
        world.device_used.fire(person=person, device=tv, context=person.context, at=start)
    engagement = world.brand.of(person, world.streams)
    if draw.random() < engagement.odds.get("tv", 0.0):
        watch(world, person, tv, day, minutes)
    screens = screens_at_hand(person, use, draw)
    kinds = sorted({d.type for d in screens})
    rates = [use.second_screen_per_hour[k] for k in kinds]
    total = sum(rates)
    seen: set[str] = set()
    t = start
    while total > 0 and (t := t + draw.exponential(3600.0 / total)) < until:
        yield env.timeout(t - env.now)
        point = draw.random() * total
        kind = kinds[-1]
        for candidate, rate in zip(kinds, rates, strict=True):
            if point < rate:
                kind = candidate
                break
            point -= rate
        of_kind = [d for d in screens if d.type == kind]
        seen.add(kind)
        t = max(t, pick_up(world, person, of_kind[draw.below(len(of_kind))], day))
    world.outcomes.sitting(seen)
    return max(until, t)


def screens_at_hand(person: Person, use: DeviceUse, draw: Draws) -> list[Device]:
    """The person's screens on the couch for this sitting.

    The context says what can be at hand (the family laptop in the living
    room too); whether it is, this time, is drawn per sitting and kind of
    screen: the phone is in a pocket or charging in the kitchen, the laptop
    on the couch or shut in its bag (``[second_screen_at_hand]``).
    """
    at_hand = CONTEXTS[person.context].at_hand
    owned = sorted({d.type for d in person.devices if d.type in SCREENS and d.type in at_hand})
    here = {kind for kind in owned if use.at_hand(kind) >= 1.0 or draw.random() < use.at_hand(kind)}
    return [d for d in person.devices if d.type in here]


def night(world: World, person: Person, end: float, day: int) -> Process:
    """Some nights the person wakes and looks at the phone on the nightstand, once or twice.

    Half of phone users say they check the phone in the middle of the
    night (Deloitte): a habit, drawn once per person on their first night.
    A habit is not every night: logged phones show a checker's sleep
    interrupted on about one night in twelve (``[night] nightly_odds``),
    drawn once a night. A night is often two stretches of sleep (to
    midnight, then to the alarm): the night's looks fall in the first
    stretch long enough to wake from, usually the one after midnight.
    """
    env = world.env
    use = world.brand.use
    draw = person.draw
    phones = person.devices_of("phone")
    first, last = env.now + NIGHT_MARGIN, end - NIGHT_MARGIN
    if not phones or last <= first:
        return
    tonight = night_of(world, person, env.now, end)
    if tonight == person.night_drawn:
        return
    person.night_drawn = tonight
    if person.night_habit is None:
        person.night_habit = draw.random() < use.night_habit_share
    if not person.night_habit or draw.random() >= use.night_odds:
        return
    looks = 1 + draw.below(max(1, round(2 * use.night_checks - 1)))
    for at in sorted(draw.uniform(first, last) for _ in range(looks)):
        if at > env.now:
            yield env.timeout(at - env.now)
        pick_up(world, person, phones[0], day)


def night_of(world: World, person: Person, start: float, end: float) -> int:
    """Which night a stretch of sleep belongs to: the local date its middle falls on, 12 h back.

    23:00-24:00 on Monday and 00:00-06:30 on Tuesday are both Monday's
    night; a night worker's 08:00-16:00 sleep is that day's.
    """
    middle = world.clock.at((start + end) / 2.0).astimezone(person.zone)
    return (middle - timedelta(hours=12)).date().toordinal()


def asleep_at_3(world: World, person: Person, plan: Plan, day: int) -> None:
    """Is this US person (15 or older) in bed at 3 a.m. local on ``day``? The ATUS snapshot.

    The American Time Use Survey reports what people were doing at each
    time of day; sleeping peaks at 3 a.m. The world counts the same snapshot
    once per person and night within the run, from the day's plan (lying
    awake or a look at the phone in bed counts as in bed, as ATUS counts
    sleeplessness with sleeping).
    """
    if person.country != "US" or person.age < ATUS_MIN_AGE:
        return
    at = local_midnight(world.scenario.start, person, day) + 3 * 3600.0
    if not 0.0 <= at < world.end:
        return
    asleep = any(start <= at < end and CONTEXTS[b.context].asleep for start, end, b in plan)
    world.outcomes.asleep_at_3["seen"] += 1
    world.outcomes.asleep_at_3["asleep"] += asleep


def choose_device(world: World, person: Person, block: Block, menu: Menu) -> Device | None:
    """The device that fits the context, weighted by the block's ``use`` table (its ``menu``)."""
    devices, edges = menu
    if not devices:
        return None
    point = person.draw.random() * edges[-1]
    device = devices[-1]
    for candidate, edge in zip(devices, edges, strict=True):
        if point < edge:
            device = candidate
            break
    device = borrow_partner_device(world, person, device, block)
    return to_the_buying_screen(world, person, device, devices)


def to_the_buying_screen(
    world: World, person: Person, device: Device, devices: list[Device]
) -> Device:
    """A cart meant to be bought takes the person to the screen they like to buy on.

    Kaylee added running shoes on her phone between classes; back home she
    opens the laptop to buy them. While such a cart waits, a pick-up of a
    screen is now and then a pick-up of the person's favourite buying screen
    at hand instead (``cart_moves`` of the brand's category): how carts
    travel between devices, which the cross-device order share measures.
    """
    moves = world.brand.category.cart_moves
    journey = person.journey
    if not moves or not (journey.cart and journey.intent) or device.type not in SCREENS:
        return device
    buy_on = person.persona.buy_on
    best = max(devices, key=lambda d: buy_on.get(d.type, 0.0))
    if buy_on.get(best.type, 0.0) <= buy_on.get(device.type, 0.0):
        return device
    return best if person.draw.random() < moves else device


def device_menu_of(person: Person, block: Block) -> Menu:
    """The person's menu for ``block``, built once and kept for every block of the same place
    and device use (a shifted routine's blocks are copies that share their template's ``use``)."""
    key = (block.context, id(block.use))
    menu = person.menus.get(key)
    if menu is None:
        menu = person.menus[key] = device_menu(person, block)
    return menu


def device_menu(person: Person, block: Block) -> Menu:
    """The person's devices at hand in ``block``, with cumulative choice weights."""
    at_hand = CONTEXTS[block.context].at_hand
    devices = [d for d in person.devices if d.type in at_hand and block.use.get(d.type, 0.0) > 0]
    edges = list(accumulate(block.use[d.type] * _label_weight(d, block) for d in devices))
    return devices, edges


def _label_weight(device: Device, block: Block) -> float:
    """With two of a kind (Susan's phones), the work one wins at work and loses elsewhere.

    A device's ``share`` (persona data) scales it against others of its kind.
    """
    if device.spec.label != "work":
        return device.spec.share
    return device.spec.share * (4.0 if block.context in WORK_CONTEXTS else 0.25)


def borrow_partner_device(world: World, person: Person, device: Device, block: Block) -> Device:
    """Sometimes a person at home picks up a partner's tablet or laptop instead."""
    if not block.context.startswith("home.") or device.type not in ("phone", "tablet", "laptop"):
        return device
    if person.draw.random() >= world.scenario.partner_device_use:
        return device
    household = world.household_of(person)
    borrowed = [
        d
        for p in household.adults()
        if p is not person
        for d in p.devices
        if d.type in ("tablet", "laptop") and not d.shared
    ]
    if not borrowed:
        return device
    choice = borrowed[person.draw.below(len(borrowed))]
    if person.id not in choice.used_by:
        choice.used_by.append(person.id)
    return choice
