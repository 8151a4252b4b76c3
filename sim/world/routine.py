"""Daily routines: a persona's blocks of context laid onto a real calendar.

Monday for Kaylee is class at nine, the gym at four, the car in between; on
Saturday she sleeps in. A routine is that template; a day plan is the template
pinned to one local date in the person's time zone, with each boundary shifted
by a little random jitter so no two Mondays are identical.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np

from sim.world.people import Person
from sim.world.persona import Block, Persona
from sim.world.places import ABSTRACT, CONTEXTS

# The context a worker's ``commute`` block becomes, by the mode they drew.
MODE_CONTEXT = {
    "car": "car.driving",
    "transit": "commute.transit",
    "walk": "commute.walk",
    "home": "home.office",
}

Plan = list[tuple[float, float, Block]]
DAY_MINUTES = 1440


def local_midnight(start: datetime, person: Person, day: int) -> float:
    """Seconds from the scenario start to local midnight of ``day`` for this person."""
    date = (start + timedelta(days=day)).date()
    local = datetime(date.year, date.month, date.day, tzinfo=person.zone)
    return (local - start).total_seconds()


def book_trip(person: Person, day: int, rng: np.random.Generator) -> None:
    """Perhaps book a trip that starts on ``day`` (a draw; trips last 2-4 days).

    Not while one is booked through ``day`` already, nor to start the day
    after one ends: the booking is made the day before, while the trip's
    last day is being lived, and would relabel that day (see
    :func:`kind_of_day`); so a new trip waits a day at home, which makes a
    traveller's trips a month a little fewer than ``trips_per_month``.
    """
    if day <= person.travelling_until or person.away(day - 1):
        return
    if rng.random() < person.persona.trips_per_month / 30.0:
        person.travelling_from = day
        person.travelling_until = day + int(rng.integers(1, 4))


def kinds_around(
    start: datetime, person: Person, day: int, rng: np.random.Generator
) -> tuple[str, str, str]:
    """Yesterday's, today's and tomorrow's kind of day, booking tomorrow's trip (a draw).

    Tonight's bedtime follows tomorrow (a night before a flight is a work
    night), so a trip is booked the day before it starts; the first day of
    the run may start one of its own.
    """
    yesterday = kind_of_yesterday(start, person, day)
    if day == 0:
        book_trip(person, day, rng)
    today = kind_of_day(start, person, day)
    book_trip(person, day + 1, rng)
    return yesterday, today, kind_of_day(start, person, day + 1)


def kind_of_day(start: datetime, person: Person, day: int) -> str:
    """The kind of a day whose trip is booked: on a trip, else weekend or weekday.

    The weekend is Saturday and Sunday of the calendar day ``day`` days
    after the scenario's ``start``. Asked again later in the day (is today
    a free day?), it answers what :func:`plan_day` lived, with no draw.
    """
    if person.away(day):
        return "travel"
    return week_kind(start, day)


def week_kind(start: datetime, day: int) -> str:
    """Weekend or weekday by the calendar alone: Saturday and Sunday are the weekend."""
    return "weekend" if (start + timedelta(days=day)).weekday() >= 5 else "weekday"


def kind_of_yesterday(start: datetime, person: Person, day: int) -> str:
    """The kind of day the person lived before ``day``.

    Before the run's first day there is no lived day: the day before is
    what the calendar makes it (a Sunday before a Monday start), with no
    trip, as the person's week would have it.
    """
    return kind_of_day(start, person, day - 1) if day > 0 else week_kind(start, day - 1)


def plan_day(
    start: datetime, person: Person, day: int, rng: np.random.Generator, night: float
) -> Plan:
    """Pin the routine for ``day`` to sim seconds, with jittered, ordered boundaries.

    ``night``: the fewest minutes a work night's shifted bedtime leaves
    before the alarm (``work_night_sleep_minutes``, see :func:`sleep_shifted`).
    A night is named by the morning after it, as the time-use and sleep
    surveys name it (NHANES, the MCTQ: a work night is the night before a
    work day): the day begins with the night today's kind went to bed into
    after yesterday's evening, and ends with the evening and bedtime that
    tomorrow's kind asks for (Friday stays up like a Saturday, Sunday goes
    to bed like a Monday-Thursday, the night before a flight is a work night).
    """
    base = local_midnight(start, person, day)
    blocks = lived(person, *kinds_around(start, person, day, rng), night)
    shifts = jitters(blocks, rng)
    starts: list[float] = []
    for i, (block, shift) in enumerate(zip(blocks, shifts, strict=True)):
        # a minute at least before midnight for each block from this one on (none squeezed out)
        minute = min(max(block.start + shift, 0.0), float(DAY_MINUTES - len(blocks) + i))
        starts.append(max(minute, starts[-1] + 1.0) if starts else block.start)
    ends = [*starts[1:], float(blocks[-1].end)]
    return [
        (base + s * 60.0, base + e * 60.0, b)
        for s, e, b in zip(starts, ends, blocks, strict=True)
        if e > s
    ]


def jitters(blocks: list[Block], rng: np.random.Generator) -> list[float]:
    """Each block's shift in minutes: a normal draw with its ``jitter`` as spread (0: none).

    ``rng.normal(0.0, jitter)`` is ``0.0 + jitter * z`` for the generator's
    next standard normal ``z``; the day's ``z`` are drawn in one call.
    """
    # NOTE: the day's standard normals in one call, scaled here as numpy scales them (test_speed_tricks.py).
    drawn = iter(rng.standard_normal(sum(1 for block in blocks if block.jitter)).tolist())
    return [0.0 + block.jitter * next(drawn) if block.jitter else 0.0 for block in blocks]


def lived(person: Person, yesterday: str, kind: str, tomorrow: str, night: float) -> list[Block]:
    """One kind of day as this person lives it between yesterday's kind and tomorrow's.

    Placed, chronotype applied; worked out once per person and three kinds
    of day (the device menus are kept by a block's place and use, which
    their copies share). ``night``: see :func:`sleep_shifted` (the same for
    the whole run).
    """
    blocks = person.shifted.get((yesterday, kind, tomorrow))
    if blocks is None:
        blocks = person.shifted[yesterday, kind, tomorrow] = lived_by(
            person.persona, (yesterday, kind, tomorrow), person.commute, person.chronotype, night
        )
    return blocks


Kinds = tuple[str, str, str]  # yesterday's kind of day, today's and tomorrow's


def lived_by(
    persona: Persona, kinds: Kinds, commute: str | None, chronotype: int, night: float
) -> list[Block]:
    """One kind of day between two others for everyone with this persona, commute and chronotype.

    Thousands of people share each of these (read, never changed), so it is
    worked out once for all of them. The day begins with the night
    yesterday's evening spent going to bed as today asks, and ends with its
    own evening going to bed as tomorrow asks (:func:`bedtime`).
    """
    # NOTE: one lived routine per (persona, kinds of yesterday, today and tomorrow, commute, chronotype, night), not per person (test_speed_tricks.py).
    key = (id(persona), kinds, commute, chronotype, night)
    found = _LIVED.get(key)
    if found is None or found[0] is not persona:
        # ~5 triples of kinds a week: ~125k keys at 1M people, estimated
        if len(_LIVED) > 262_144:
            _LIVED.clear()
        placed = [[placed_for(commute, b) for b in persona.routine[k]] for k in kinds]
        found = _LIVED[key] = (persona, lived_between(placed, kinds, chronotype, night))
    return found[1]


def lived_between(placed: list[list[Block]], kinds: Kinds, shift: int, night: float) -> list[Block]:
    """Today's placed routine (``placed``: yesterday's, today's, tomorrow's) shifted by
    ``shift``: set off as tomorrow's, the night before it and tonight's bedtime as the
    kinds ask (:func:`lived_by` keeps one per persona and chronotype)."""
    before, routine, after = placed
    routine = set_off_as(routine, after)
    return sleep_shifted(
        routine,
        shift,
        free=kinds[1] == "weekend",
        night=night,
        before=bedtime(before, routine, shift, free=kinds[1] == "weekend", night=night),
        tonight=bedtime(routine, after, shift, free=kinds[2] == "weekend", night=night),
    )


_LIVED: dict[tuple[int, Kinds, str | None, int, float], tuple[Persona, list[Block]]] = {}

# A routine that begins asleep, cut where its night falls: the sleep it begins with,
# the waking block, the blocks between, the evening, and the bedtime's sleep (at
# 24:00 for a day up until midnight, whose bedtime is the next day's first block).
Shape = tuple[Block, Block, list[Block], Block, Block]
# A day's night as lived: the bedtime (minutes from that day's midnight, past 1440
# after midnight), the evening block it is spent in until then, and the unshifted
# bedtime of the routine whose morning follows.
Night = tuple[int, Block, int]


def shape_of(blocks: list[Block]) -> Shape | None:
    """The routine cut where its night falls, or None for one that keeps its hours.

    A routine that does not begin asleep (a night shift), or that ends
    awake before midnight, has no night to shift.
    """
    if len(blocks) < 4 or not CONTEXTS[blocks[0].context].asleep:
        return None
    first, second = blocks[0], blocks[1]
    if CONTEXTS[blocks[-1].context].asleep:
        return first, second, blocks[2:-2], blocks[-2], blocks[-1]
    if blocks[-1].end == DAY_MINUTES:  # up until midnight: bedtime is the next day's first block
        last = replace(first, start=DAY_MINUTES, end=DAY_MINUTES, jitter=0)
        return first, second, blocks[2:-1], blocks[-1], last
    return None


def bed_of(evening: Block, ahead: Shape, shift: int, free: bool, night: float) -> int:
    """The bedtime after ``evening``: ``ahead``'s own plus ``shift``, before a work day by the floor.

    ``ahead`` is the routine of the day the night leads into, whose bedtime
    is the one its night before keeps (a weekday's 23:00, a Saturday's
    midnight). Before a work day the alarm keeps the waking, so an owl's
    bedtime stops where the night before the routine's waking would fall
    short of ``night`` minutes (a routine whose own night is shorter keeps
    its own). Never before the evening has begun.
    """
    _, second, _, _, last = ahead
    if not free:
        shift = min(shift, max(0, int(DAY_MINUTES + second.start - last.start - night)))
    return max(evening.start + (min(shift, 0) if free else 0) + 1, last.start + shift)


def bedtime(
    blocks: list[Block], ahead: list[Block], shift: int, free: bool, night: float
) -> Night | None:
    """The night a lived day goes to bed into: bedtime, the evening until then, ``ahead``'s own.

    ``ahead`` is the routine of the next day and ``free`` whether that day
    is free: a night is a work night or a free night by the morning after
    it (NHANES and the MCTQ count it so). A next day that keeps its hours
    (a night shift) leaves the day its own bedtime. None for a day
    that keeps its hours (see :func:`shape_of`).
    """
    shape = shape_of(blocks)
    if shape is None:
        return None
    following = shape_of(ahead) or shape
    return bed_of(shape[3], following, shift, free, night), shape[3], following[4].start


def sleep_shifted(
    blocks: list[Block],
    shift: int,
    free: bool,
    night: float,
    before: Night | None = None,
    tonight: Night | None = None,
) -> list[Block]:
    """A routine with its bedtime moved by ``shift`` minutes, and its waking on free days.

    ``free``: the day itself is free (the weekend), which sets its waking.
    The night that begins the day is ``before``: the night yesterday's
    evening went to bed into (:func:`bedtime`, today's kind setting its
    bedtime); the night that ends it is ``tonight`` (tomorrow's kind setting
    it), so Friday's evening stays up to Saturday's bedtime and Sunday's goes
    to bed at a weekday's. Without them (or next to a routine that keeps its
    hours) the day's own, as if yesterday and tomorrow were of its kind.
    An owl (shift > 0) stays in the evening's last block longer and, when the
    shift takes bedtime past midnight, the day ends in that block at 24:00
    and the next day begins with it (the evening carried over) until
    bedtime. A bedtime at or before midnight begins the next day asleep.
    On a work day the alarm clock keeps the waking time, and the night
    before it lets bedtime move only as far as leaves ``night`` minutes
    asleep before it (a routine whose own night is shorter keeps its
    bedtime), and a lark whose evening before kept its hours wakes no
    sooner than that floor after it (never past the alarm); on a free day
    (the weekend) the owl sleeps in by the same shift and lives the day
    after it as much later (:func:`slept_in`). A lark (shift < 0) goes to
    bed and wakes earlier on every day; on a work day the blocks after
    waking keep their hours, on a free day the lark's day moves earlier
    with the waking. A routine that begins asleep and is up until midnight
    (a Saturday night out, the next day beginning asleep) has its bedtime
    at midnight, shifted the same way. A routine that does not begin asleep
    (a night shift) keeps its own hours.
    """
    shape = shape_of(blocks)
    if shape is None:
        return blocks
    if shift == 0 and before is None and tonight is None:
        return blocks
    first, second, between, evening, last = shape
    own = bed_of(evening, shape, shift, free, night), evening, last.start
    wake = max(first.start + 1, second.start + (shift if free else min(shift, 0)))
    bed = (tonight or own)[0]
    last_bed, last_evening, own_bed = before or own
    if not free:  # the alarm: last night's bedtime leaves the floor before today's waking,
        last_bed = min(last_bed, max(DAY_MINUTES + wake - int(night), own_bed))
        # and a lark whose evening kept its hours wakes no sooner than the floor (by the alarm)
        wake = max(wake, min(second.start, last_bed + int(night) - DAY_MINUTES))
    latest = min(bed, DAY_MINUTES) - 1  # the evening starts by then
    wake = min(wake, latest - len(between) - 1)  # a minute at least for each block of the day
    moved = wake - second.start if free else 0  # a free day moves with its waking
    day = slept_in([second, *between, evening], wake, moved, latest)
    after = min(last_bed - DAY_MINUTES, wake - 1)  # minutes of last night's evening past 24:00
    carried = [replace(last_evening, start=0, end=after, jitter=0)] if after > 0 else []
    start = after if carried else first.start
    if bed < DAY_MINUTES:
        end = [replace(day[-1], end=bed), replace(last, start=bed, end=DAY_MINUTES)]
    else:  # up at midnight or past it: the next day begins with the rest of the night
        end = [replace(day[-1], end=DAY_MINUTES)]
    return [*carried, replace(first, start=start, end=wake), *day[:-1], *end]


def set_off_as(blocks: list[Block], ahead: list[Block]) -> list[Block]:
    """A day that keeps its hours, ending as the next one's routine sets off into the night.

    A night shift that runs past midnight belongs to the morning after it:
    the night worker's weekday routine ends by leaving home at 22:00 for a
    shift from 23:00, the one its next weekday begins at work. When both
    days keep their hours (neither begins asleep, :func:`shape_of`), the
    day keeps its blocks up to its last one at home, and ends with what
    ``ahead`` does after its own last one at home: Friday's evening stays
    in the living room before a weekend, Sunday's leaves for Monday's
    shift. A day whose last home block would not start before that, or two
    days that end alike, keep their own blocks.
    """
    if shape_of(blocks) is not None or shape_of(ahead) is not None:
        return blocks
    own, theirs = _last_at_home(blocks), _last_at_home(ahead)
    if own is None or theirs is None or blocks[own + 1 :] == ahead[theirs + 1 :]:
        return blocks
    tail = ahead[theirs + 1 :]
    end = tail[0].start if tail else DAY_MINUTES
    if blocks[own].start >= end:
        return blocks
    return [*blocks[:own], replace(blocks[own], end=end), *tail]


def _last_at_home(blocks: list[Block]) -> int | None:
    """The index of the routine's last block at home off work (None: never)."""
    homes = [i for i, b in enumerate(blocks) if b.context.startswith("home.")]
    homes = [i for i in homes if blocks[i].context != "home.office"]
    return homes[-1] if homes else None


def slept_in(blocks: list[Block], wake: int, moved: int, latest: int) -> list[Block]:
    """The waking day's blocks from ``wake``, the later ones ``moved`` minutes, in order.

    On a free day the whole day moves with its waking (``moved`` is the
    sleep-in, or a lark's early start), so breakfast and errands keep their
    lengths; on a work day (``moved`` 0) only the first block starts at the
    waking and the rest keep their hours. Each block starts at least a
    minute after the one before, and the evening (the last block) no later
    than ``latest``.
    """
    starts = [wake, *(b.start + moved for b in blocks[1:])]
    for i in range(1, len(starts)):
        starts[i] = max(starts[i], starts[i - 1] + 1)
    for i in range(len(starts) - 1, -1, -1):
        starts[i] = min(starts[i], latest)
        latest = starts[i] - 1
    ends = [*starts[1:], DAY_MINUTES]  # each by the next one's start (the caller ends the last)
    return [
        replace(b, start=s, end=max(s + 1, min(b.end + moved, e)))
        for b, s, e in zip(blocks, starts, ends, strict=True)
    ]


def placed(person: Person, block: Block) -> Block:
    """The block as this person lives it: a commute by their own mode; no office if they work from home."""
    return placed_for(person.commute, block)


def placed_for(commute: str | None, block: Block) -> Block:
    """The block as lived by someone who gets to work by ``commute`` (shared by all of them).

    A persona's commute block becomes one of five concrete blocks, the same
    frozen block for everyone with that mode, so it is made once.
    """
    # NOTE: one concrete block per (mode, template) for everyone, not one per person (test_speed_tricks.py).
    office = block.context == "work.office" and commute == "home"
    if block.context not in ABSTRACT and not office:
        return block
    key = (commute, id(block))
    found = _PLACED.get(key)
    if found is None or found[0] is not block:
        if len(_PLACED) > 65_536:
            _PLACED.clear()
        found = _PLACED[key] = (block, commute_block(commute or "transit", block))
    return found[1]


_PLACED: dict[tuple[str | None, int], tuple[Block, Block]] = {}


def commute_block(mode: str, block: Block) -> Block:
    """The commute (or, working from home, the office) block for one mode of getting to work.

    Driving, only the car's own system is in use (no phone in hand); on transit
    or on foot, whatever the block lists that is at hand there; at home, the
    home office's devices.
    """
    name = MODE_CONTEXT[mode]
    if mode == "car":
        use = {"car": block.use["car"]} if "car" in block.use else {}
    else:
        at_hand = CONTEXTS[name].at_hand
        use = {k: v for k, v in block.use.items() if k in at_hand and k != "car"}
    return replace(block, context=name, use=use)
