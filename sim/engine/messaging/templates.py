"""Words for the person: the message in their language, with their name filled in, safely.

A message may be written once per language (``locales = { fr = {...}, pl =
{...} }``) beside its default text (``locale``, English unless said); the
device's ``context.locale`` picks one (``fr-FR`` finds ``fr-FR``, else
``fr``, else the default). Its texts may be templates (``Hi {{ first_name |
default("there") }}``), filled from what the profile's ``identify`` calls
said (first and last name, city, age), the message itself (the offer), and the
properties of the event that started it all (``{{ event.name }}`` for the
product a ``Product Added`` carried, ``{{ event.products | length }}`` items in
a viewed cart).

Templates run in jinja2's sandbox with strict undefined names, so a template
can neither reach Python internals nor print a half-filled "Hi ,": a missing
name is a :class:`RenderError`, and the messenger suppresses that message
with the reason (``render_failed:<why>``). Templates are compiled when the
scenario loads, so a typo fails there, naming the key.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from sim.engine.messaging.config import Campaign, Message
from sim.engine.messaging.profiles import ProfileCard
from sim.errors import ConfigError

TEXT_FIELDS: tuple[str, ...] = ("title", "body", "short", "spoken")
ENVIRONMENT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
TRAIT_NAMES = {
    "first_name": "firstName",
    "last_name": "lastName",
    "name": "name",
    "city": "address.city",
    "age": "age",
}


class RenderError(Exception):
    """A message could not be filled in; the text says why (one short line)."""


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


@lru_cache(maxsize=1024)
def compiled(text: str) -> Template:
    """A template compiled once per distinct text (raises jinja2's TemplateError)."""
    return ENVIRONMENT.from_string(text)


def problem(text: str) -> str:
    """``""`` when ``text`` compiles, else jinja2's one-line complaint."""
    if not is_template(text):
        return ""
    try:
        compiled(text)
    except TemplateError as exc:
        return str(exc.message or exc).splitlines()[0]
    return ""


def localize(message: Message, device_locale: str) -> tuple[Message, str]:
    """The message in the device's language when written in it, else the default."""
    if not message.locales:
        return message, message.locale
    wanted = device_locale.replace("_", "-")
    table = dict(message.locales)
    for key in (wanted, wanted.split("-")[0]):
        if key in table:
            return table[key], key
    return message, message.locale


def variables(
    state: ProfileCard, message: Message, event: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What a template may name: profile traits that ``identify`` sent, the offer, and the
    properties of the event that triggered the campaign or entered the journey (``event``;
    absent for broadcasts and other entries without an event)."""
    out: dict[str, Any] = {"offer": message.offer}
    if event is not None:
        out["event"] = event
    for name, trait in TRAIT_NAMES.items():
        value = state.traits.get(trait)
        if value is not None and value != "":
            out[name] = value
    return out


def fill(message: Message, state: ProfileCard, event: dict[str, Any] | None = None) -> Message:
    """Every template field filled in, or :class:`RenderError` naming what was missing."""
    if not any(is_template(getattr(message, f)) for f in TEXT_FIELDS):
        return message
    names = variables(state, message, event)
    done: dict[str, Any] = {}
    for field in TEXT_FIELDS:
        text = getattr(message, field)
        if not is_template(text):
            continue
        try:
            done[field] = compiled(text).render(names)
        except TemplateError as exc:
            raise RenderError(f"{field}: {str(exc.message or exc).splitlines()[0]}") from None
    return replace(message, **done)


def _item(name: str) -> str:
    """How an error names a message's owner: ``campaigns (cart)`` or ``journeys (cart) step m``."""
    journey, _, step = name.partition("/")
    return f"journeys ({journey}) step {step}" if step else f"campaigns ({name})"


def check_templates(campaigns: list[Campaign], where: str) -> None:
    """Every template of every message (and language) compiles, or a :class:`ConfigError`
    naming the campaign (a journey's ``journey/step``), the message and the field."""
    problems = []
    for campaign in campaigns:
        messages = [("message", campaign.message)]
        messages += [
            (f"variants ({v.name}).message", v.message) for v in campaign.variants if v.message
        ]
        for key, message in messages:
            versions = [("", message), *((f".locales.{k}", m) for k, m in message.locales)]
            for suffix, version in versions:
                for field in TEXT_FIELDS:
                    why = problem(getattr(version, field))
                    if why:
                        problems.append(
                            f"{where}: {_item(campaign.name)}.{key}{suffix}.{field}:"
                            " expected a template"
                            f" that compiles in the jinja2 sandbox, got {why!r}"
                        )
    if problems:
        raise ConfigError(sorted(set(problems)))
