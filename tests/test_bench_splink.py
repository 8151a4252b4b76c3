"""The Splink benchmark's inputs and clustering, on hand-made events."""

from __future__ import annotations

from typing import Any

from benchmarks.bench_splink import DeviceLog, _most, components, device_records


def log(ips: dict[str, int], night: dict[str, int], windows: set[str], user: str = "") -> DeviceLog:
    from collections import Counter

    return DeviceLog(
        user_ids=Counter({user: 3}) if user else Counter(),
        night_ips=Counter(night),
        ips=Counter(ips),
        windows=windows,
        attributes={"device_type": "phone", "manufacturer": "", "os": "iOS"},
    )


def test_records_drop_public_addresses_and_keep_rare_windows() -> None:
    # "nat" is used by 13 devices (public: more than 12); "home" by two.
    logs = {f"x{k:02d}": log({"nat": 1}, {}, {"nat|1"}) for k in range(11)}
    logs["a"] = log(
        {"nat": 9, "home": 2, "cafe": 5}, {"home": 2}, {"nat|1", "cafe|7", "home|8"}, "u1"
    )
    logs["b"] = log({"nat": 1, "home": 7}, {"nat": 5}, {"cafe|7", "home|8"})
    records = {r["unique_id"]: r for r in device_records(logs)}
    a, b = records["a"], records["b"]
    # a's busiest address is the carrier NAT, but it is public; home time says "home";
    # the away addresses leave out every home
    assert (a["home_ip"], a["ips"], a["user_id"]) == ("home", ["cafe"], "u1")
    # b's only night address is public: its busiest private address stands in
    assert (b["home_ip"], b["ips"], b["user_id"]) == ("home", None, None)
    # "cafe|7" is shared by two devices (rare); "nat|1" by 13; "home|8" by two, but at a home
    assert a["windows"] == ["cafe|7"] and b["windows"] == ["cafe|7"]
    assert records["x00"]["home_ip"] is None and records["x00"]["windows"] is None
    assert a["manufacturer"] is None and a["os"] == "iOS"


def test_most_frequent_breaks_ties_by_the_smaller_value() -> None:
    from collections import Counter

    assert _most(Counter({"b": 2, "a": 2, "c": 1})) == "a"
    assert _most(Counter()) is None


def test_components_join_pairs_at_or_above_the_threshold() -> None:
    pairs = [("a", "b", 0.95), ("b", "c", 0.9), ("c", "d", 0.89)]
    groups: list[dict[str, Any]] = components(["a", "b", "c", "d", "e"], pairs, 0.9)
    assert sorted(g["device_ids"] for g in groups) == [["a", "b", "c"], ["d"], ["e"]]
    assert len(components(["a", "b", "c", "d", "e"], pairs, 0.96)) == 5
