"""The published rates a population is drawn from: ownership, commute modes, network paths.

Like a statistical yearbook on the enumerator's desk: how many adults of each
age own a smartphone in each country, how workers get to work, how a watch or
a car reaches the internet. The numbers live in ``data/*.toml``, each with its
source; this module reads them loudly (every problem names the file, the key
and what was expected) and answers the population's questions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from sim.world.schema import PROVENANCE_KEYS, Reader, load_toml

DATA = Path(__file__).resolve().parents[2] / "data"
OWNED_KINDS = ("phone", "watch", "tablet", "laptop", "car", "tv", "speaker")
FALLBACK = "US"
MODES = ("car", "transit", "walk", "home")
SHARE_SLACK = 0.005  # shares printed to three decimals may miss 1 by rounding
TOTAL_SLACK = 0.01  # band rates averaged over the age mix may miss the survey's total by a point
ADULT = 18


@dataclass(frozen=True)
class Ownership:
    """Share of people owning each kind of device, by country and age band."""

    bands: tuple[tuple[str, int, int], ...]
    rates: dict[str, dict[str, dict[str, float]]]
    age_mix: dict[str, dict[str, float]] = field(
        default_factory=dict
    )  # country -> adult band shares

    def band(self, age: int) -> str:
        for name, low, high in self.bands:
            if low <= age <= high:
                return name
        return self.bands[-1][0] if age > self.bands[-1][2] else self.bands[0][0]

    def rate(self, country: str, kind: str, age: int) -> float:
        """The published rate for a person of ``age`` in ``country`` (US when unknown)."""
        table = self.rates.get(country) or self.rates[FALLBACK]
        return table[kind][self.band(age)]


@dataclass(frozen=True)
class Paths:
    """How watches and cars reach the brand: shares of each network path."""

    watch: dict[str, float]
    watch_away: dict[str, float]
    car: dict[str, float]


@dataclass(frozen=True)
class Census:
    ownership: Ownership
    commute: dict[str, dict[str, float]]
    paths: Paths

    def modes(self, country: str) -> dict[str, float]:
        return self.commute.get(country) or self.commute[FALLBACK]


def shares(reader: Reader, table: Any, where: str, names: tuple[str, ...]) -> dict[str, float]:
    """A table of shares over ``names``: each a probability, together summing to 1."""
    if not isinstance(table, dict):
        reader.fail(where.rstrip("."), "a table of shares", table)
        return {}
    reader.known(table, names, where)
    out = {n: reader.probability(table, n, where) for n in names if n in table}
    missing = [n for n in names if n not in table]
    if missing:
        reader.fail(f"{where}{missing[0]}", f"a share for every one of {', '.join(names)}")
    total = sum(out.values())
    if out and abs(total - 1.0) > SHARE_SLACK:
        reader.fail(where.rstrip("."), "shares that sum to 1", round(total, 4))
    return out


def _bands(reader: Reader, data: dict[str, Any]) -> tuple[tuple[str, int, int], ...]:
    table = reader.table(data, "bands", "")
    out: list[tuple[str, int, int]] = []
    for name, span in table.items():
        if name in PROVENANCE_KEYS:
            continue
        ok = isinstance(span, list) and len(span) == 2 and all(isinstance(v, int) for v in span)
        if not ok or span[0] > span[1]:
            reader.fail(f"bands.{name}", "[lowest age, highest age]", span)
            continue
        out.append((name, span[0], span[1]))
    out.sort(key=lambda band: band[1])
    for before, after in pairwise(out):
        if after[1] != before[2] + 1:
            reader.fail(f"bands.{after[0]}", f"to start at {before[2] + 1}, after {before[0]}")
    return tuple(out)


def band_rates(
    reader: Reader, entry: dict[str, Any], where: str, bands: tuple[tuple[str, int, int], ...]
) -> tuple[dict[str, float], float]:
    reader.known(entry, ("total", "rates"), where)
    total = reader.probability(entry, "total", where)
    table = reader.table(entry, "rates", where)
    rates = {}
    for name, _, _ in bands:
        if name not in table:
            reader.fail(f"{where}rates.{name}", "a rate for every age band")
            continue
        rates[name] = reader.probability(table, name, f"{where}rates.")
    for name in table:
        if name not in rates and name not in PROVENANCE_KEYS:
            reader.fail(f"{where}rates.{name}", f"one of the bands {[b[0] for b in bands]}", name)
    if rates and not min(rates.values()) <= total <= max(rates.values()):
        reader.fail(
            f"{where}total",
            f"a total between the lowest and highest band rate "
            f"({min(rates.values()):g}-{max(rates.values()):g}): band rates that average to it",
            total,
        )
    return rates, total


def survey_entry(reader: Reader, entry: Any, where: str) -> dict[str, Any] | None:
    """A survey table (``where`` ends in a dot) must be a table with a source; None if no table."""
    if not isinstance(entry, dict):
        reader.fail(where.rstrip("."), "a table with total, rates and a source", entry)
        return None
    if not any(k in entry for k in PROVENANCE_KEYS):
        reader.fail(where.rstrip("."), "a 'source' or 'remark' for its numbers")
    return entry


def borrowed_from(reader: Reader, entry: dict[str, Any], where: str) -> str | None:
    """The country a survey table takes its figures ``from`` (nothing else beside it), or None."""
    if "from" not in entry:
        return None
    reader.known(entry, ("from",), where)
    return str(entry["from"])


def check_average(
    reader: Reader,
    key: str,
    mix: dict[str, float],
    rates: dict[str, float],
    total: float,
    over: str,
) -> None:
    """A survey's total is its band rates averaged over the adults' age mix: they must agree.

    ``over`` says in the error what was averaged over which mix.
    """
    averaged = sum(share * rates.get(band, 0.0) for band, share in mix.items())
    if abs(averaged - total) > TOTAL_SLACK:
        reader.fail(key, f"{over} ({averaged:.3f}), within {TOTAL_SLACK:g}", total)


def _age_mix(
    reader: Reader, data: dict[str, Any], bands: tuple[tuple[str, int, int], ...]
) -> dict[str, dict[str, float]]:
    """``[age_mix.COUNTRY]``: the shares of the country's adults in each adult age band."""
    adult = tuple(name for name, low, _ in bands if low >= ADULT)
    table = reader.table(data, "age_mix", "", required=False)
    return {
        country: shares(reader, mix, f"age_mix.{country}.", adult)
        for country, mix in table.items()
        if country not in PROVENANCE_KEYS
    }


def _check_totals(
    reader: Reader,
    mixes: dict[str, dict[str, float]],
    direct: dict[str, dict[str, dict[str, float]]],
    totals: dict[tuple[str, str], float],
) -> None:
    """A survey's total is its band rates averaged over the adults' age mix: they must agree."""
    for country in mixes:
        if country not in direct:
            reader.fail(
                f"age_mix.{country}", f"a country with its own tables {sorted(direct)}", country
            )
    for (country, kind), total in totals.items():
        mix = mixes.get(country)
        if mix:
            over = f"the band rates averaged over age_mix.{country}"
            check_average(
                reader, f"{country}.{kind}.total", mix, direct[country][kind], total, over
            )


def parse_ownership(data: dict[str, Any], path: Path | str) -> Ownership:
    """Validate ``ownership.toml``; raise ``ConfigError`` naming every problem."""
    reader = Reader(path)
    reader.check_provenance(data)
    bands = _bands(reader, data)
    mixes = _age_mix(reader, data, bands)
    direct: dict[str, dict[str, dict[str, float]]] = {}
    totals: dict[tuple[str, str], float] = {}
    borrowed: list[tuple[str, str, str]] = []
    for country, devices in data.items():
        if country in ("bands", "age_mix", *PROVENANCE_KEYS):
            continue
        if not isinstance(devices, dict):
            reader.fail(country, "a table of device kinds", devices)
            continue
        direct[country] = {}
        for kind in OWNED_KINDS:
            where = f"{country}.{kind}."
            if (table := survey_entry(reader, devices.get(kind), where)) is None:
                continue
            if (other := borrowed_from(reader, table, where)) is not None:
                borrowed.append((country, kind, other))
                continue
            direct[country][kind], totals[country, kind] = band_rates(reader, table, where, bands)
        reader.known(devices, OWNED_KINDS, f"{country}.")
    for country, kind, other in borrowed:
        if kind not in direct.get(other, {}):
            reader.fail(
                f"{country}.{kind}.from", "a country whose table gives its own rates", other
            )
            continue
        direct[country][kind] = direct[other][kind]
    if FALLBACK not in direct:
        reader.fail(FALLBACK, "the US tables (the fallback for every other country)")
    _check_totals(reader, mixes, direct, totals)
    reader.raise_if_any()
    return Ownership(bands, direct, mixes)


def parse_commute(data: dict[str, Any], path: Path | str) -> dict[str, dict[str, float]]:
    reader = Reader(path)
    reader.check_provenance(data)
    out = {
        country: shares(reader, table, f"{country}.", MODES)
        for country, table in data.items()
        if country not in PROVENANCE_KEYS
    }
    if FALLBACK not in out:
        reader.fail(FALLBACK, "the US table (the fallback for every other country)")
    reader.raise_if_any()
    return out


def parse_paths(data: dict[str, Any], path: Path | str) -> Paths:
    reader = Reader(path)
    reader.check_provenance(data)
    reader.known(data, ("watch", "watch_away", "car"), "")
    away = reader.table(data, "watch_away", "")
    paths = Paths(
        watch=shares(reader, data.get("watch"), "watch.", ("tethered", "cellular")),
        watch_away={
            k: reader.probability(away, k, "watch_away.") for k in away if k not in PROVENANCE_KEYS
        },
        car=shares(reader, data.get("car"), "car.", ("projection", "embedded")),
    )
    reader.raise_if_any()
    return paths


@cache
def load_census(folder: Path = DATA) -> Census:
    """The three data files of ``folder``, validated (read once per process)."""
    return Census(
        ownership=parse_ownership(load_toml(folder / "ownership.toml"), folder / "ownership.toml"),
        commute=parse_commute(load_toml(folder / "commute.toml"), folder / "commute.toml"),
        paths=parse_paths(load_toml(folder / "network.toml"), folder / "network.toml"),
    )
