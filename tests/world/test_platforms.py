"""Each drawn person's platform: iPhone or Android by country and age, and what pairs with it."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim.world.population as population
from sim.errors import ConfigError
from sim.world.census import DATA, load_census
from sim.world.devices import Device
from sim.world.people import Person
from sim.world.persona import DeviceSpec, Persona, parse_persona
from sim.world.platform_data import load_platforms, parse_platforms
from sim.world.platforms import kit
from sim.world.scenario import load_scenario
from sim.world.schema import load_toml
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[2]


def platforms_doc() -> dict[str, Any]:
    return copy.deepcopy(load_toml(DATA / "platforms.toml"))


def problems(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    return "\n".join(excinfo.value.problems)


def parse(doc: dict[str, Any]) -> None:
    parse_platforms(doc, "platforms.toml", load_census().ownership)


def world(persons: int, seed: int = 11) -> World:
    scenario = load_scenario(ROOT / "scenarios" / "population.toml")
    return World(scenario.with_overrides(persons=persons, days=1, seed=seed))


@pytest.fixture(scope="module")
def drawn() -> World:
    return world(6000)


def people(w: World) -> Iterator[Person]:
    for household in w.households:
        yield from household.members


def platform(device: Device) -> str | None:
    return load_platforms().ecosystem(device.spec.os)


def test_the_shipped_shares_load_and_answer_by_country_and_age() -> None:
    shares = load_platforms()
    assert shares.apple_share("phone", "US", 15) == 0.87  # Piper Sandler teens
    assert shares.apple_share("phone", "KR", 25) > 0.5 > shares.apple_share("phone", "KR", 70)
    assert shares.apple_share("phone", "PL", 40) < shares.apple_share("phone", "US", 40)
    assert shares.apple_share("phone", "DE", 40) == shares.apple_share("phone", "US", 40)
    assert shares.apple_share("tablet", "FR", 40) == shares.apple_share("tablet", "US", 40)
    assert shares.ecosystem("watchOS") == "ios" and shares.ecosystem("Wear OS") == "android"
    assert shares.ecosystem("Fitbit OS") is None


def test_a_share_outside_zero_and_one_names_file_key_and_expectation() -> None:
    doc = platforms_doc()
    doc["phone"]["KR"]["rates"]["65+"] = 1.2
    with pytest.raises(ConfigError) as excinfo:
        parse(doc)
    assert "platforms.toml: phone.KR.rates.65+: expected a number between 0 and 1, got 1.2" in (
        problems(excinfo)
    )


def test_a_share_without_a_source_fails() -> None:
    doc = platforms_doc()
    del doc["phone"]["KR"]["source"]
    with pytest.raises(ConfigError) as excinfo:
        parse(doc)
    assert "platforms.toml: phone.KR: expected a 'source' or 'remark' for its numbers" in problems(
        excinfo
    )


def test_us_band_shares_must_average_to_the_published_total_over_the_age_mix() -> None:
    doc = platforms_doc()
    doc["phone"]["US"]["rates"]["65+"] = 0.3
    with pytest.raises(ConfigError) as excinfo:
        parse(doc)
    assert "platforms.toml: phone.US.total: expected the band shares averaged over" in (
        problems(excinfo)
    )


def test_an_os_in_both_platforms_or_a_borrowed_table_from_nowhere_fails() -> None:
    doc = platforms_doc()
    doc["ecosystems"]["android"].append("iOS")
    doc["tablet"]["KR"]["from"] = "JP"
    with pytest.raises(ConfigError) as excinfo:
        parse(doc)
    text = problems(excinfo)
    assert (
        "ecosystems.android: expected each operating system in one platform only, got 'iOS'" in text
    )
    assert "tablet.KR.from: expected a country whose table gives its own shares, got 'JP'" in text


def persona_doc(name: str) -> dict[str, Any]:
    return copy.deepcopy(load_toml(ROOT / "personas" / f"{name}.toml"))


def test_a_counterpart_on_the_same_platform_fails_naming_the_device() -> None:
    doc = persona_doc("teen")
    doc["devices"][0]["counterpart"]["os"] = "iOS"
    with pytest.raises(ConfigError) as excinfo:
        parse_persona(doc, "teen.toml")
    assert "teen.toml: devices[0].counterpart.os: expected an operating system of the other" in (
        problems(excinfo)
    )


def test_a_drawn_persona_needs_a_counterpart_for_its_own_phone() -> None:
    doc = persona_doc("commuter")
    del doc["devices"][0]["counterpart"]
    with pytest.raises(ConfigError) as excinfo:
        parse_persona(doc, "commuter.toml")
    assert "commuter.toml: devices[0].counterpart: expected the same device on the other" in (
        problems(excinfo)
    )


def test_a_persona_without_counterparts_keeps_its_whole_kit_on_its_own_platform() -> None:
    """No Apple Watch ends up paired to an Android phone, whichever way a persona is drawn."""
    doc = persona_doc("homemaker")  # iPhone, Apple Watch: the watch alone loses its counterpart
    watch = next(i for i, d in enumerate(doc["devices"]) if d["type"] == "watch")
    del doc["ownership"], doc["devices"][watch]["counterpart"]
    persona = parse_persona(doc, "homemaker.toml")
    kits = [kit(persona, "KR", 70, np.random.default_rng(seed)) for seed in range(30)]
    for specs in kits:
        phone, watch_ = specs[0], specs[watch]
        assert (phone.os, watch_.os) == ("iOS", "watchOS"), "KR 65+: 2.5% iPhone, yet kept"
    full = parse_persona(persona_doc("homemaker"), "homemaker.toml")
    swapped = [kit(full, "KR", 70, np.random.default_rng(seed))[0].os for seed in range(30)]
    assert "Android" in swapped, "with counterparts the same draws do swap"


def test_named_people_keep_exactly_the_device_specs_of_their_seed() -> None:
    named = World(load_scenario(ROOT / "scenarios" / "day-in-the-life.toml"))
    for person in named.people():
        assert [d.spec for d in person.devices] == list(person.persona.devices)
    models = {p.name: sorted(d.spec.model for d in p.devices) for p in named.people()}
    assert "Pixel 8" in models["Mason"] and "iPad Air" in models["Mason"]
    assert "iPhone 14" in models["Kaylee"] and "Apple Watch Series 9" in models["Kaylee"]
    assert models["Susan"].count("iPhone 15 Pro") == 1


def phone_platforms(
    w: World, country: str, ages: range, persona: str | None = None
) -> Counter[str]:
    counts: Counter[str] = Counter()
    for person in people(w):
        if person.country != country or person.age not in ages:
            continue
        if persona is not None and person.persona.name != persona:
            continue
        for device in person.devices:
            if device.type == "phone" and not device.shared:
                counts[str(platform(device))] += 1
    return counts


def test_an_archetype_no_longer_fixes_the_platform(drawn: World) -> None:
    """US teens carry iPhones about as often as Piper Sandler found; commuters carry both."""
    teens = phone_platforms(drawn, "US", range(13, 18))
    assert sum(teens.values()) > 200
    assert 0.80 < teens["ios"] / sum(teens.values()) < 0.94
    commuters = phone_platforms(drawn, "US", range(18, 121), "commuter")
    share = commuters["ios"] / sum(commuters.values())
    assert 0.45 < share < 0.65  # the adult share, whatever the persona file lists
    polish = phone_platforms(drawn, "PL", range(13, 121))
    assert polish["ios"] / sum(polish.values()) < 0.3


def test_a_watch_and_a_car_follow_the_phone(drawn: World) -> None:
    checked = Counter[str]()
    for person in people(drawn):
        phones = {platform(d) for d in person.devices if d.type == "phone" and not d.shared}
        for device in person.devices:
            if device.type in ("watch", "car") and platform(device) is not None and phones:
                assert {platform(device)} == phones, (person.id, device.spec.model)
                checked[f"{device.type}/{platform(device)}"] += 1
    assert min(checked[k] for k in ("watch/ios", "watch/android", "car/ios", "car/android")) > 10


def test_a_swapped_device_keeps_how_its_owner_uses_it(drawn: World) -> None:
    swapped = 0
    for person in people(drawn):
        listed = {(s.type, s.label): s for s in person.persona.devices}
        for device in person.devices:
            if device.shared:  # the household's, listed by whoever drew it
                continue
            spec = listed[device.type, device.spec.label]
            if device.spec == spec:
                continue
            swapped += 1
            assert device.spec.counterpart is not None
            assert (device.spec.model, device.spec.os) == (
                spec.counterpart.model if spec.counterpart else None,
                spec.counterpart.os if spec.counterpart else None,
            )
            keep = ("type", "label", "app", "shared", "logs_in", "share", "path")
            assert all(getattr(device.spec, k) == getattr(spec, k) for k in keep)
    assert swapped > 100


def test_the_platform_draw_shifts_no_other_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    """Who owns what, ids and paths are the same with the platform drawn or the persona's kept."""

    def portrait(w: World) -> list[Any]:
        return [
            (p.id, p.age, p.commute, [(d.id, d.type, d.spec.label, d.path) for d in p.devices])
            for p in people(w)
        ]

    drawn = portrait(world(400))

    def as_listed(persona: Persona, country: str, age: int, rng: object) -> tuple[DeviceSpec, ...]:
        return persona.devices

    monkeypatch.setattr(population, "kit", as_listed)
    assert portrait(world(400)) == drawn


def test_the_platforms_are_the_same_whichever_worker_builds_the_household() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "population.toml").with_overrides(persons=300)

    def models(shard: tuple[int, int]) -> dict[str, list[str]]:
        return {
            d.id: [d.spec.model, d.spec.os]
            for h in World(scenario, shard=shard).households
            for p in h.members
            for d in p.devices
        }

    assert models((0, 2)) | models((1, 2)) == models((0, 1))
