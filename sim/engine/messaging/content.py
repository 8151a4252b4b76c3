"""Content per device from one message definition: the same offer, dressed for each screen.

One message, many costumes. The watch gets a bite (a notice that there is
something, within a character limit); the speaker and the car get spoken
text and nothing to look at; the TV gets a banner that says exactly what the
phone and laptop say; the phone adds maps and click-to-call when the campaign
has a place or a number; the laptop gets the rich version. Links go into the
app (``shopwise://``) when the device has it, to the web otherwise. The offer
code is identical everywhere, so nobody sees two different deals.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sim.engine.messaging.config import Message

WATCH_LIMIT = 40  # characters on a watch notification (assumed: two short lines)
APP_SCHEME = "shopwise://"
WEB_ROOT = "https://shopwise.example/"
AUDIO = frozenset({"speaker", "car"})


def link(message: Message, has_app: bool) -> str:
    path = message.path or "home"
    query = f"?offer={quote(message.offer)}" if message.offer else ""
    return f"{APP_SCHEME if has_app else WEB_ROOT}{path}{query}"


def bite(message: Message) -> str:
    text = message.short or message.title
    return text if len(text) <= WATCH_LIMIT else text[: WATCH_LIMIT - 1].rstrip() + "…"


def spoken(message: Message) -> str:
    if message.spoken:
        return message.spoken
    offer = f" Your code is {' '.join(message.offer)}." if message.offer else ""
    return f"{message.title}. {message.body}{offer}"


def render(message: Message, device_type: str, has_app: bool, channel: str) -> dict[str, Any]:
    """``{text, deep_link, offer, format, actions}`` for one device."""
    offer_line = f" Code {message.offer}." if message.offer else ""
    actions: list[dict[str, str]] = []
    if device_type in AUDIO:
        return {
            "text": spoken(message),
            "deep_link": None,
            "offer": message.offer,
            "format": "spoken",
            "actions": actions,
        }
    if device_type == "watch":
        text, fmt = bite(message), "glance"
    elif device_type == "tv":
        text, fmt = f"{message.title}.{offer_line}", "banner"
    elif device_type == "laptop" or channel == "email":
        text, fmt = f"{message.title}\n\n{message.body}{offer_line}", "rich"
    else:
        text, fmt = f"{message.title}: {message.body}{offer_line}", "mobile"
    if device_type in ("phone", "tablet") and message.place:
        actions.append({"type": "maps", "url": f"geo:0,0?q={quote(message.place)}"})
    if device_type == "phone" and message.phone:
        actions.append({"type": "call", "url": f"tel:{message.phone.replace(' ', '')}"})
    return {
        "text": text,
        "deep_link": link(message, has_app),
        "offer": message.offer,
        "format": fmt,
        "actions": actions,
    }
