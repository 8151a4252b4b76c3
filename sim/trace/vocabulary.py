"""The message-event vocabulary: what a device says when a message reaches it or is acted on.

Segment's Mobile and Email specs name the push and email events ("Push
Notification Received", "Email Opened"); the channels the specs do not cover
(watch, TV, speaker, car, in-app, SMS) get clearly named custom events of
the same shape. The world sends them, the report and ``hopsim compare``
read them back, so each name is written down here once; the engine's messenger
reads engagement from :data:`ENGAGEMENT` and accepts :data:`LOOP_EVENTS` in
campaigns.
"""

from __future__ import annotations

# channel -> the event a device sends when a message arrives (email says nothing on arrival)
RECEIVED: dict[str, str] = {
    "push": "Push Notification Received",
    "watch": "Watch Notification Received",
    "tv_banner": "TV Banner Shown",
    "speaker_voice": "Voice Message Played",
    "car_audio": "Car Audio Message Played",
    "in_app": "In-App Message Viewed",
    "sms": "SMS Received",
}
# channel -> the event a device sends when the person opens the message
OPENED: dict[str, str] = {
    "push": "Push Notification Tapped",
    "email": "Email Opened",
    "watch": "Watch Notification Opened",
    "tv_banner": "TV Banner Selected",
    "speaker_voice": "Voice Message Accepted",
    "car_audio": "Car Audio Message Accepted",
    "in_app": "In-App Message Clicked",
    "sms": "SMS Link Clicked",
}
EMAIL_CLICKED = "Email Link Clicked"
UNSUBSCRIBED = "Unsubscribed"
PUSH_PERMISSION = "Push Permission Changed"
CAMPAIGN_LANDING = "Campaign Landing"

# event -> channel, for every event that says a person acted on a message
ACTED_ON: dict[str, str] = {name: channel for channel, name in OPENED.items()} | {
    EMAIL_CLICKED: "email",
    "Push Notification Opened": "push",  # older SDKs' name for a tap, seen in imported traces
}
# Message events that only say a message arrived (shown, played): no action by the person.
ARRIVED_SUFFIXES = (" Received", " Delivered", " Shown", " Played", " Viewed")

# The custom events the closed loop sends for channels Segment's specs do not cover
# (arrival and action of every channel but push and email), and the invitation a
# persuaded person sends.
LOOP_EVENTS: tuple[str, ...] = (
    *(
        name
        for channel in RECEIVED
        if channel != "push"
        for name in (RECEIVED[channel], OPENED[channel])
    ),
    "Friends Invited",
)
# event -> (channel, weight): evidence that a profile engages on a channel. An email
# open is half the evidence of a click (mail clients open images nobody looked at);
# weights stay halves so any sum order gives the same figure.
ENGAGEMENT: dict[str, tuple[str, float]] = {
    OPENED["push"]: ("push", 1.0),
    OPENED["email"]: ("email", 0.5),
    EMAIL_CLICKED: ("email", 1.0),
    **{OPENED[channel]: (channel, 1.0) for channel in RECEIVED if channel != "push"},
}
