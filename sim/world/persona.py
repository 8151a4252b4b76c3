"""Personas: who a person is, which devices they carry, and how their days run.

A persona file is a portrait in data. Mason's says he always has his phone,
edits art on a tablet at home, streams through a Roku and asks an Echo Dot for
recipes while he cooks. The simulation never hard-codes any of that; it reads
it here, checks it, and fails loudly with every problem named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.trace.events import DEVICE_TYPES
from sim.world.places import ABSTRACT, CONTEXTS
from sim.world.platform_data import FOLLOWS, load_platforms
from sim.world.schema import Reader, load_toml

DAY_KINDS = ("weekday", "weekend", "travel")
PERSONA_KEYS = (
    "name",
    "display_name",
    "summary",
    "locales",
    "timezones",
    "age",
    "gender",
    "travel",
    "devices",
    "lifecycle",
    "session",
    "journey",
    "routine",
    "ownership",
    "voice",
)
DEVICE_KEYS = (
    "type",
    "label",
    "model",
    "manufacturer",
    "os",
    "os_version",
    "app",
    "shared",
    "logs_in",
    "share",
    "path",
    "counterpart",
)
HARDWARE_KEYS = ("model", "manufacturer", "os", "os_version")
PATHS = {"watch": ("tethered", "cellular"), "car": ("projection", "embedded")}
BLOCK_KEYS = ("context", "start", "end", "jitter", "sessions_per_hour", "use")
SECTION_KEYS = {
    "age": ("min", "max"),
    "travel": ("trips_per_month",),
    "lifecycle": ("signup", "existing_account", "opt_in"),
    "session": ("screens", "gap_seconds"),
    "journey": ("browse", "add_to_cart", "checkout", "review", "buy_on"),
    "routine": DAY_KINDS,
    "voice": ("intents",),
}
CHANNELS = ("push", "email", "sms", "location")
BUY_DEVICES = ("phone", "tablet", "laptop", "tv")
VOICE_INTENTS = ("recipe", "music", "weather", "timer", "shopping list", "news")


@dataclass(frozen=True)
class Hardware:
    """What a device is, apart from how its owner uses it: the make and its operating system."""

    model: str
    manufacturer: str
    os: str
    os_version: str


@dataclass(frozen=True)
class DeviceSpec:
    """One device a persona owns (or shares with the household)."""

    type: str
    label: str
    model: str
    manufacturer: str
    os: str
    os_version: str
    app: bool
    shared: bool
    logs_in: float
    share: float = 1.0  # weight against others of its kind (Susan's client phone: rarely picked)
    path: str | None = None  # a watch's or car's network path if the persona says (else drawn)
    counterpart: Hardware | None = None  # the same device on the other platform (platforms.py)


@dataclass(frozen=True)
class Block:
    """A stretch of a day spent in one context, in local clock minutes."""

    context: str
    start: int
    end: int
    jitter: int
    sessions_per_hour: float
    use: dict[str, float]


@dataclass(frozen=True)
class Persona:
    name: str
    display_name: str
    summary: str
    locales: dict[str, float]
    timezones: dict[str, float]  # a zone mix of its own; empty: where the locale's people live
    age_min: int
    age_max: int
    genders: dict[str, float]
    devices: tuple[DeviceSpec, ...]
    routine: dict[str, tuple[Block, ...]]
    trips_per_month: float
    signup: float
    existing_account: float
    opt_in: dict[str, float]
    screens_mu: float
    screens_sigma: float
    gap_mu: float
    gap_sigma: float
    browse: float
    add_to_cart: float
    checkout: float
    buy_on: dict[str, float]
    review: float
    ownership: dict[str, float] | None = None  # propensities; None: owns every device it lists
    voice: dict[str, float] = field(default_factory=dict)  # what the person asks a smart speaker
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def has_commute(self) -> bool:
        """Does any routine go to work by a mode the person draws (a ``commute`` block)?"""
        return any(b.context in ABSTRACT for blocks in self.routine.values() for b in blocks)


def _minutes(reader: Reader, text: object, key: str) -> int:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        reader.fail(key, 'a time "HH:MM"', text)
        return 0
    try:
        hours, minutes = int(text[:2]), int(text[3:])
    except ValueError:
        reader.fail(key, 'a time "HH:MM"', text)
        return 0
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 1440:
        reader.fail(key, "a time between 00:00 and 24:00", text)
    return hours * 60 + minutes


def _device(reader: Reader, data: dict[str, Any], where: str) -> DeviceSpec:
    reader.known(data, DEVICE_KEYS, where)
    kind = reader.text(data, "type", where)
    if kind and kind not in DEVICE_TYPES:
        reader.fail(f"{where}type", f"one of {' '.join(DEVICE_TYPES)}", kind)
    return DeviceSpec(
        type=kind,
        label=str(data.get("label", "main")),
        model=reader.text(data, "model", where),
        manufacturer=reader.text(data, "manufacturer", where),
        os=reader.text(data, "os", where),
        os_version=reader.text(data, "os_version", where),
        app=reader.flag(data, "app", where, True),
        shared=reader.flag(data, "shared", where, False),
        logs_in=reader.probability(data, "logs_in", where),
        share=_share(reader, data, where),
        path=_path(reader, data, kind, where),
        counterpart=_counterpart(reader, data, where),
    )


def _counterpart(reader: Reader, data: dict[str, Any], where: str) -> Hardware | None:
    """The device on the other platform (an Android phone for an iPhone), drawn per person.

    Its operating system must belong to the other platform than the spec's
    own (``data/platforms.toml`` [ecosystems]).
    """
    table = data.get("counterpart")
    if table is None:
        return None
    at = f"{where}counterpart."
    if not isinstance(table, dict):
        reader.fail(at.rstrip("."), "a table of model, manufacturer, os and os_version", table)
        return None
    reader.known(table, HARDWARE_KEYS, at)
    hardware = Hardware(*(reader.text(table, key, at) for key in HARDWARE_KEYS))
    ecosystem = load_platforms().ecosystem
    own, other = ecosystem(str(data.get("os"))), ecosystem(hardware.os)
    if own is None:
        reader.fail(
            f"{where}os",
            "an operating system of one platform (platforms.toml [ecosystems]) on a device"
            " with a counterpart",
            data.get("os"),
        )
    elif other is None or other == own:
        reader.fail(
            f"{at}os",
            f"an operating system of the other platform than {own} (platforms.toml)",
            hardware.os,
        )
    return hardware


def _share(reader: Reader, data: dict[str, Any], where: str) -> float:
    """A device's weight against others of its kind, bare or as ``{ value = 0.2, source = ... }``."""
    value = data.get("share", 1.0)
    if isinstance(value, dict):
        return reader.number(value, "value", f"{where}share.", 0.0, 100.0)
    return reader.number(data, "share", where, 0.0, 100.0, 1.0)


def _path(reader: Reader, data: dict[str, Any], kind: str, where: str) -> str | None:
    path = data.get("path")
    if path is None:
        return None
    allowed = PATHS.get(kind, ())
    if path not in allowed:
        reader.fail(
            f"{where}path", f"one of {allowed} for a {kind}" if allowed else "no path", path
        )
        return None
    return str(path)


def _block(reader: Reader, data: dict[str, Any], where: str, owned: set[str]) -> Block:
    reader.known(data, BLOCK_KEYS, where)
    name = reader.text(data, "context", where)
    if name and name not in CONTEXTS and name not in ABSTRACT:
        reader.fail(f"{where}context", f"one of {', '.join(sorted([*CONTEXTS, *ABSTRACT]))}", name)
    start = _minutes(reader, data.get("start"), f"{where}start")
    end = _minutes(reader, data.get("end"), f"{where}end")
    if end <= start:
        reader.fail(f"{where}end", f"a time after start {data.get('start')}", data.get("end"))
    use = reader.weights(data, "use", where) if "use" in data else {}
    for kind in use:
        if kind not in owned:
            reader.fail(
                f"{where}use.{kind}", f"a device type the persona owns ({sorted(owned)})", kind
            )
    return Block(
        context=name,
        start=start,
        end=end,
        jitter=reader.integer(data, "jitter", where, 0, 180, 0),
        sessions_per_hour=reader.number(data, "sessions_per_hour", where, 0.0, 30.0, 0.0),
        use=use,
    )


def _routine(reader: Reader, data: dict[str, Any], owned: set[str]) -> dict[str, tuple[Block, ...]]:
    table = reader.table(data, "routine", "")
    routine: dict[str, tuple[Block, ...]] = {}
    for kind in DAY_KINDS:
        blocks = table.get(kind)
        if not isinstance(blocks, list) or not blocks:
            reader.fail(
                f"routine.{kind}", f"a non-empty array of tables [[routine.{kind}]]", blocks
            )
            routine[kind] = ()
            continue
        routine[kind] = tuple(
            _block(reader, b if isinstance(b, dict) else {}, f"routine.{kind}[{i}].", owned)
            for i, b in enumerate(blocks)
        )
        _check_order(reader, routine[kind], f"routine.{kind}")
    return routine


def _check_order(reader: Reader, blocks: tuple[Block, ...], where: str) -> None:
    """Blocks follow each other through the day; one may not start before the last ends."""
    for index in range(1, len(blocks)):
        before, block = blocks[index - 1], blocks[index]
        if block.start < before.end:
            reader.fail(
                f"{where}[{index}].start",
                f"a time at or after the previous block's end ({before.end // 60:02d}:{before.end % 60:02d})",
                f"{block.start // 60:02d}:{block.start % 60:02d}",
            )


def _ownership(reader: Reader, data: dict[str, Any], owned: set[str]) -> dict[str, float] | None:
    """Propensities: how much likelier than the published rate this archetype owns each kind.

    Without an ``[ownership]`` table the persona owns every device it lists
    (a portrait from a seed); with one, each listed kind is drawn per person.
    """
    if "ownership" not in data:
        return None
    table = reader.table(data, "ownership", "")
    out: dict[str, float] = {}
    for kind in table:
        if kind in ("source", "remark"):
            continue
        if kind not in owned:
            reader.fail(
                f"ownership.{kind}", f"a device type the persona lists ({sorted(owned)})", kind
            )
            continue
        out[kind] = reader.number(table, kind, "ownership.", 0.0, 20.0)
    for kind in sorted(owned - set(out)):
        reader.fail(f"ownership.{kind}", "a propensity for every device type the persona lists")
    return out


def _voice(reader: Reader, data: dict[str, Any]) -> dict[str, float]:
    if "voice" not in data:
        return {}
    table = reader.table(data, "voice", "")
    return reader.weights(table, "intents", "voice.", set(VOICE_INTENTS))


def _lognormal(reader: Reader, data: dict[str, Any], key: str, where: str) -> tuple[float, float]:
    table = reader.table(data, key, where)
    return (
        reader.number(table, "mu", f"{where}{key}.", -5.0, 15.0),
        reader.number(table, "sigma", f"{where}{key}.", 0.0, 5.0),
    )


def parse_persona(data: dict[str, Any], path: Path | str) -> Persona:
    """Validate a persona document; raise ``ConfigError`` listing every problem."""
    reader = Reader(path)
    reader.check_provenance(data)
    reader.known(data, PERSONA_KEYS, "")
    for section, keys in SECTION_KEYS.items():
        reader.known(data.get(section, {}), keys, f"{section}.")
    devices_raw = data.get("devices")
    if not isinstance(devices_raw, list) or not devices_raw:
        reader.fail("devices", "a non-empty array of tables [[devices]]", devices_raw)
        devices_raw = []
    devices = tuple(
        _device(reader, d if isinstance(d, dict) else {}, f"devices[{i}].")
        for i, d in enumerate(devices_raw)
    )
    owned = {d.type for d in devices}
    age = reader.table(data, "age", "")
    lifecycle = reader.table(data, "lifecycle", "")
    session = reader.table(data, "session", "")
    journey = reader.table(data, "journey", "")
    screens = _lognormal(reader, session, "screens", "session.")
    gaps = _lognormal(reader, session, "gap_seconds", "session.")
    persona = Persona(
        name=reader.text(data, "name", ""),
        display_name=reader.text(data, "display_name", "", str(data.get("name", ""))),
        summary=reader.text(data, "summary", ""),
        locales=reader.weights(data, "locales", ""),
        timezones=reader.weights(data, "timezones", "") if "timezones" in data else {},
        age_min=reader.integer(age, "min", "age.", 13, 100),
        age_max=reader.integer(age, "max", "age.", 13, 100),
        genders=reader.weights(data, "gender", ""),
        devices=devices,
        routine=_routine(reader, data, owned),
        trips_per_month=reader.number(
            reader.table(data, "travel", ""), "trips_per_month", "travel.", 0, 10
        ),
        signup=reader.probability(lifecycle, "signup", "lifecycle."),
        existing_account=reader.probability(lifecycle, "existing_account", "lifecycle."),
        opt_in={
            c: reader.probability(
                reader.table(lifecycle, "opt_in", "lifecycle."), c, "lifecycle.opt_in."
            )
            for c in CHANNELS
        },
        screens_mu=screens[0],
        screens_sigma=screens[1],
        gap_mu=gaps[0],
        gap_sigma=gaps[1],
        browse=reader.probability(journey, "browse", "journey."),
        add_to_cart=reader.probability(journey, "add_to_cart", "journey."),
        checkout=reader.probability(journey, "checkout", "journey."),
        buy_on=reader.weights(journey, "buy_on", "journey.", set(BUY_DEVICES)),
        review=reader.probability(journey, "review", "journey."),
        ownership=_ownership(reader, data, owned),
        voice=_voice(reader, data),
        raw=data,
    )
    if persona.age_min > persona.age_max:
        reader.fail("age.max", f"at least age.min ({persona.age_min})", persona.age_max)
    _check_locales_and_zones(reader, persona)
    if persona.ownership is not None:
        _check_counterparts(reader, persona)
    reader.raise_if_any()
    return persona


def _check_counterparts(reader: Reader, persona: Persona) -> None:
    """A persona the population draws from needs each own phone, tablet, watch and car on both platforms."""
    ecosystem = load_platforms().ecosystem
    for index, spec in enumerate(persona.devices):
        drawn = spec.type in FOLLOWS and not spec.shared and ecosystem(spec.os) is not None
        if drawn and spec.counterpart is None:
            reader.fail(
                f"devices[{index}].counterpart",
                "the same device on the other platform (model, manufacturer, os,"
                " os_version): the population draws each person's platform",
            )


def _check_locales_and_zones(reader: Reader, persona: Persona) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    for zone in persona.timezones:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            reader.fail(f"timezones.{zone}", "an IANA time zone such as Europe/Paris", zone)
    for locale in persona.locales:
        if len(locale) != 5 or locale[2] != "_":
            reader.fail(f"locales.{locale}", "a Faker locale such as en_US", locale)


def load_persona(path: Path) -> Persona:
    return parse_persona(load_toml(path), path)


def load_personas(folder: Path) -> dict[str, Persona]:
    """Every ``*.toml`` in a folder, keyed by persona name."""
    personas: dict[str, Persona] = {}
    for path in sorted(folder.glob("*.toml")):
        persona = load_persona(path)
        personas[persona.name] = persona
    return personas
