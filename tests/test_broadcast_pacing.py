"""A rate-limited broadcast lets its audience in N a minute, in one hash order over the whole
audience, however the households are dealt: one messenger, or two trading waves through files."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from sim.engine.engine import Engine
from sim.engine.messaging import Messenger
from sim.engine.messaging.variants import bucket
from sim.errors import HopsimError
from sim.runner.pool import FilePool
from tests.engine.test_journeys import journey, msg, problems, rows, setup
from tests.engine.test_messaging import granted, hours, run_ticks

STORM = journey(
    msg("alert"), name="storm", entry={"at": "2026-11-02T02:00:00Z"}, rate_limit={"per_minute": 4}
)
USERS = [f"u-{i}" for i in range(25)]


def shard(users: list[str]) -> tuple[Engine, Messenger]:
    engine, messenger = setup(STORM)
    for user in users:
        granted(engine, f"d-{user}", 60, user=user)
    return engine, messenger


def admitted(messenger: Messenger) -> list[tuple[str, str]]:
    return sorted((r["at"][:16], r["profile_id"]) for r in rows(messenger, "entered"))


def test_one_messenger_admits_n_a_minute_in_hash_order() -> None:
    engine, messenger = shard(USERS)
    delivered = run_ticks(engine, hours(2) - 60, hours(2) + 600)
    per_minute = Counter(at for at, _ in admitted(messenger))
    assert sorted(per_minute.values(), reverse=True) == [4, 4, 4, 4, 4, 4, 1]
    assert min(per_minute) == "2026-11-02T02:00" and max(per_minute) == "2026-11-02T02:06"
    order = [pid for _, pid in admitted(messenger)]
    by_minute = [sorted(p for a, p in admitted(messenger) if a == m) for m in sorted(per_minute)]
    ranked = sorted(order, key=lambda pid: bucket("storm/rate", pid))
    assert [sorted(ranked[i : i + 4]) for i in range(0, 25, 4)] == by_minute
    assert Counter(int(d.at // 60) for d in delivered).most_common(1)[0][1] == 4


def test_two_shards_trading_waves_admit_exactly_as_one(tmp_path: Path) -> None:
    engine, messenger = shard(USERS)
    run_ticks(engine, hours(2) - 60, hours(2) + 600)
    expected = admitted(messenger)
    parts: list[list[tuple[str, str]]] = [[], []]
    failures: list[BaseException] = []

    def work(index: int) -> None:
        try:
            engine, part = shard(USERS[index::2])
            part.pool = FilePool(tmp_path / "pool", index, 2)
            run_ticks(engine, hours(2) - 60, hours(2) + 600)
            parts[index] = admitted(part)
        except BaseException as exc:  # handed to the test thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    assert parts[0] and parts[1]
    assert sorted(parts[0] + parts[1]) == expected


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"rate_limit": {"per_minute": 0}}, "journeys[0] (storm).rate_limit.per_minute: expected"),
        ({"rate_limit": {"per_hour": 5}}, "journeys[0] (storm).rate_limit.per_hour: expected"),
        (
            {"rate_limit": {"per_minute": 5}, "entry": {"event": "Product Added"}},
            "journeys[0] (storm).rate_limit: expected a broadcast journey (entry.at)",
        ),
    ],
)
def test_bad_rate_limit_names_journey_and_key(over: dict[str, Any], needle: str) -> None:
    assert needle in problems(STORM | over)


def test_a_shard_that_never_comes_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.runner.pool as pool

    monkeypatch.setattr(pool, "TIMEOUT", 0.05)
    with pytest.raises(HopsimError, match=r"broadcast storm: shards \[1\] never reached"):
        FilePool(tmp_path, 0, 2)("storm", [(1.0, "p-1")])
