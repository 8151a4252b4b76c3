"""The engine's per-identifier profile cache never outlives a merge."""

from __future__ import annotations

from typing import Any

from sim.engine.engine import Engine


def event(kind: str, anon: str, device: str, user: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": kind,
        "messageId": f"{anon}-{kind}-{user}",
        "timestamp": "2026-11-02T10:00:00.000Z",
        "anonymousId": anon,
        "context": {"device": {"id": device, "type": "phone"}, "ip": "73.1.2.3"},
    }
    if kind == "track":
        out["event"] = "Application Opened"
    if user is not None:
        out["userId"] = user
    return out


def test_cached_answer_follows_a_merge() -> None:
    engine = Engine()
    phone = event("track", "anon-phone", "dev-phone")
    laptop = event("track", "anon-laptop", "dev-laptop")
    for e in (phone, laptop):
        engine.ingest(e)
    before_phone = engine._cached_profile_id(phone)
    before_laptop = engine._cached_profile_id(laptop)
    assert before_phone != before_laptop
    assert engine._cached_profile_id(phone) == before_phone == engine.profile_id_for(phone)
    for e in (
        event("identify", "anon-phone", "dev-phone", "u-1"),
        event("identify", "anon-laptop", "dev-laptop", "u-1"),
    ):
        engine.ingest(e)
    after_phone = engine._cached_profile_id(phone)
    after_laptop = engine._cached_profile_id(laptop)
    assert after_phone == after_laptop == engine.profile_id_for(laptop)


class Recorder:
    """A messaging component that hands out one delivery per tick."""

    def __init__(self, keeps_log: bool) -> None:
        if keeps_log:
            self.decisions: list[dict[str, Any]] = []

    def observe(self, event: dict[str, Any], profile_id: str | None) -> None:
        return None

    def tick(self, now_seconds: float) -> list[Any]:
        return [{"profile_id": "p-1", "at": now_seconds}]


def test_deliveries_are_counted_and_kept_only_without_a_decision_log() -> None:
    logging = Engine(messaging=Recorder(keeps_log=True))
    bare = Engine(messaging=Recorder(keeps_log=False))
    for now in (60.0, 120.0, 180.0):
        logging.tick(now)
        bare.tick(now)
    assert logging.stats()["deliveries"] == bare.stats()["deliveries"] == 3
    assert logging.deliveries == []
    assert [d["at"] for d in bare.messages("p-1")] == [60.0, 120.0, 180.0]
