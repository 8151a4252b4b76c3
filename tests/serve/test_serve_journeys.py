"""``hopsim serve`` walks a scenario's journeys: an entry by API is a posted track event."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sim.serve.client import HopsimClient
from tests.serve.test_serve import REPO, serving

SCENARIO = """
name = "api-entry"
start = "2026-11-02"
persons = 1

[[households]]
kind = "single"
weight = 1.0
members = [{ from = { susan = 1.0 } }]
remark = "assumed: one person; the server never simulates"

[[journeys]]
name = "vip"
entry = { api = true }
channels = ["push"]
quiet_hours = { start = "00:00", end = "00:00" }

[[journeys.steps]]
id = "hello"
kind = "message"
message = { title = "Welcome to the club", body = "Your VIP perks start today." }
"""


def test_a_posted_journey_trigger_enters_and_the_message_is_decided(tmp_path: Path) -> None:
    scenario = tmp_path / "api.toml"
    scenario.write_text(f'personas = "{REPO / "personas"}"\n' + SCENARIO)
    phone = {"device": {"id": "d1", "type": "phone"}, "timezone": "America/New_York",
             "app": {"name": "Shopwise"}}  # fmt: skip
    events = [
        {"type": "track", "event": "Push Permission Changed", "userId": "u1", "anonymousId": "a1",
         "messageId": "m1", "timestamp": "2026-11-02T14:00:00.000Z", "context": phone,
         "properties": {"granted": True}},
        {"type": "track", "event": "Journey Triggered", "userId": "u1", "anonymousId": "a1",
         "messageId": "m2", "timestamp": "2026-11-02T14:01:00.000Z", "context": phone,
         "properties": {"journey": "vip"}},
        {"type": "track", "event": "Product Viewed", "userId": "u2", "anonymousId": "a2",
         "messageId": "m3", "timestamp": "2026-11-02T14:30:00.000Z",
         "context": {"device": {"id": "d2", "type": "phone"}}},
    ]  # fmt: skip
    data = tmp_path / "data"
    with serving(data, "--scenario", str(scenario)) as server, HopsimClient(server.url) as client:
        assert client.batch(events).status_code == 200
        found = client.identity(user_id="u1")
        assert found is not None
        deadline = time.monotonic() + 15
        decisions: list[dict[str, Any]] = []
        while not decisions and time.monotonic() < deadline:
            time.sleep(0.2)
            decisions = client.messages(found["profile_id"])
    assert decisions, "the journey's message was never decided"
    assert decisions[0]["campaign"] == "vip/hello" and decisions[0]["journey"] == "vip"
    assert decisions[0]["decision"] == "sent"
