"""Which platform a country's phones and tablets run: the shares in ``data/platforms.toml``.

Like a phone shop's sales ledger by town and age: in the US about 87 in 100
teenagers carry an iPhone and about half the adults do; in Poland fewer than
one in six; in Korea two in three people in their twenties and almost nobody
over sixty. Each number lives in the data file with its source; this module
reads it loudly (file, key and what was expected) and answers two questions:
which platform an operating system belongs to, and the chance that a person
of a given country and age owns Apple's kind of ``phone`` or ``tablet``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sim.world.census import (
    DATA,
    FALLBACK,
    Ownership,
    band_rates,
    borrowed_from,
    check_average,
    load_census,
    survey_entry,
)
from sim.world.schema import PROVENANCE_KEYS, Reader, load_toml

PLATFORMS = ("ios", "android")
KINDS = ("phone", "tablet")  # drawn per person; a watch and a car follow the phone
FOLLOWS = {"phone": "phone", "watch": "phone", "car": "phone", "tablet": "tablet"}  # kind -> drawn


@dataclass(frozen=True)
class Platforms:
    """The operating systems of each platform and the Apple share by kind, country and age band."""

    ecosystems: dict[str, str]  # an os name (as the persona specs write it) -> ios | android
    apple: dict[str, dict[str, dict[str, float]]]  # kind -> country -> age band -> share
    ownership: Ownership  # the age bands

    def ecosystem(self, os: str) -> str | None:
        """``ios``, ``android`` or None (a device that works with either: a TV, a Fitbit)."""
        return self.ecosystems.get(os)

    def apple_share(self, kind: str, country: str, age: int) -> float:
        """Chance that a ``kind`` of a person of ``age`` in ``country`` is Apple's (US when unknown)."""
        table = self.apple[kind]
        return (table.get(country) or table[FALLBACK])[self.ownership.band(age)]


def _ecosystems(reader: Reader, data: dict[str, Any]) -> dict[str, str]:
    table = reader.table(data, "ecosystems", "")
    reader.known(table, PLATFORMS, "ecosystems.")
    out: dict[str, str] = {}
    for platform in PLATFORMS:
        names = table.get(platform)
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            reader.fail(f"ecosystems.{platform}", "a list of operating system names", names)
            continue
        for name in names:
            if name in out:
                reader.fail(
                    f"ecosystems.{platform}", "each operating system in one platform only", name
                )
            out[name] = platform
    return out


def _kind(
    reader: Reader, data: dict[str, Any], kind: str, ownership: Ownership
) -> dict[str, dict[str, float]]:
    """``[KIND.COUNTRY]`` tables: band shares with a total, or ``from`` another country."""
    tables = reader.table(data, kind, "")
    direct: dict[str, dict[str, float]] = {}
    borrowed: list[tuple[str, str]] = []
    for country, entry in tables.items():
        where = f"{kind}.{country}."
        if country in PROVENANCE_KEYS:
            continue
        if (table := survey_entry(reader, entry, where)) is None:
            continue
        if (other := borrowed_from(reader, table, where)) is not None:
            borrowed.append((country, other))
            continue
        direct[country], total = band_rates(reader, table, where, ownership.bands)
        mix = ownership.age_mix.get(country)
        if mix and direct[country]:
            over = f"the band shares averaged over ownership.toml's age_mix.{country}"
            check_average(reader, f"{where}total", mix, direct[country], total, over)
    for country, other in borrowed:
        if other not in direct:
            reader.fail(
                f"{kind}.{country}.from", "a country whose table gives its own shares", other
            )
            continue
        direct[country] = direct[other]
    if FALLBACK not in direct:
        reader.fail(f"{kind}.{FALLBACK}", "the US table (the fallback for every other country)")
    return direct


def parse_platforms(data: dict[str, Any], path: Path | str, ownership: Ownership) -> Platforms:
    """Validate ``platforms.toml``; raise ``ConfigError`` naming every problem."""
    reader = Reader(path)
    reader.check_provenance(data)
    reader.known(data, ("ecosystems", *KINDS), "")
    platforms = Platforms(
        ecosystems=_ecosystems(reader, data),
        apple={kind: _kind(reader, data, kind, ownership) for kind in KINDS},
        ownership=ownership,
    )
    reader.raise_if_any()
    return platforms


@cache
def load_platforms(folder: Path = DATA) -> Platforms:
    """``folder/platforms.toml``, validated against the age bands of its ownership.toml."""
    path = folder / "platforms.toml"
    return parse_platforms(load_toml(path), path, load_census(folder).ownership)
