"""The message-event vocabulary: what the world sends is what the engine and report understand."""

from __future__ import annotations

from sim.engine.messaging.events import KNOWN_EVENTS
from sim.trace.vocabulary import (
    EMAIL_CLICKED,
    OPENED,
    PUSH_PERMISSION,
    RECEIVED,
    UNSUBSCRIBED,
)


def test_every_message_event_the_world_sends_is_one_a_campaign_may_name() -> None:
    sent = {*RECEIVED.values(), *OPENED.values(), EMAIL_CLICKED, UNSUBSCRIBED, PUSH_PERMISSION}
    assert sorted(sent - KNOWN_EVENTS) == []
