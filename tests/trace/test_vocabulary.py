"""The message-event vocabulary: what the world sends is what the engine and report understand."""

from __future__ import annotations

from sim.engine.messaging.events import ENGAGEMENT, KNOWN_EVENTS
from sim.trace.vocabulary import (
    ACTED_ON,
    EMAIL_CLICKED,
    OPENED,
    PUSH_PERMISSION,
    RECEIVED,
    UNSUBSCRIBED,
)


def test_every_message_event_the_world_sends_is_one_a_campaign_may_name() -> None:
    sent = {*RECEIVED.values(), *OPENED.values(), EMAIL_CLICKED, UNSUBSCRIBED, PUSH_PERMISSION}
    assert sorted(sent - KNOWN_EVENTS) == []


def test_the_engine_reads_engagement_on_the_channel_the_vocabulary_names() -> None:
    assert {name: channel for name, (channel, _) in ENGAGEMENT.items()} == {
        name: channel for name, channel in ACTED_ON.items() if name in ENGAGEMENT
    }
    assert set(ENGAGEMENT) == set(OPENED.values()) | {EMAIL_CLICKED}
