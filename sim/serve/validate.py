"""Segment HTTP Tracking API validation: from raw request bytes to clean events.

A request is a parcel at the collector's door. We check the label first
(write key, content type, size), open it (gzip, JSON), then check every item
inside against the Segment Spec and list *every* problem at once, so a client
can fix a whole batch in one round trip. Nothing here stores anything; a batch
either comes out whole and clean or not at all.

Rules (Segment semantics, with the choices we made written down):

- ``type`` is implied by the path on ``/v1/track`` and friends and required
  inside ``/v1/batch`` (one of identify, track, page, screen, alias, group).
- ``userId`` or ``anonymousId`` is required for everything but alias; alias
  needs ``previousId`` and ``userId``; track needs ``event``; group needs
  ``groupId``. Ids may be strings or integers (SDKs send both; ``7.0`` counts
  as the integer 7, as in JSON Schema); integers are turned into strings.
- ``messageId`` is optional. When missing, ``null`` or ``""``, the server derives one from the
  event's content (``srv-`` + SHA-1 of the canonical JSON) instead of a random
  one as Segment does, so that an SDK retrying the very same payload is still
  de-duplicated.
- ``timestamp``, ``originalTimestamp``, ``sentAt`` and ``receivedAt`` must be
  ISO-8601 strings; ``properties``, ``traits``, ``context`` and
  ``integrations`` must be objects.
- 32 KB per event, 500 KB per request (after gzip is undone), nested at
  most 254 levels deep (the log's encoder writes no deeper).
- Batch-level ``context`` gives defaults to every item: a shallow merge in
  which the item's own keys win.
- The write key is the HTTP Basic user (``writeKey:``) or ``writeKey`` in the
  body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from sim.trace.events import SegmentEvent

Event = SegmentEvent  # an event that passed check_event: the contract's type from here on
Redact = Callable[[dict[str, Any]], None]  # rewrites a clean event in place (pii.Redactor)

MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_DEPTH = 254  # orjson writes at most this deep (it reads 1024): deeper is refused, 400
EVENT_TYPES = frozenset({"identify", "track", "page", "screen", "alias", "group"})
SINGLE_TYPES = ("identify", "track", "page", "screen", "alias", "group")

_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")
_TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")
_OPTIONAL_STRINGS = ("name", "category")
_MAX_ID_CHARS = 1024


@dataclass(frozen=True)
class ItemError:
    """One bad item: which one (``index`` in the batch, -1 for the request), which field."""

    index: int
    field: str
    expected: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "expected": self.expected}


class RequestError(Exception):
    """A request we refuse, with its HTTP status and every reason."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: list[ItemError] | None = None,
        items: int = 0,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or []
        self.items = items  # events in the refused request, when known

    def body(self) -> dict[str, Any]:
        """The JSON answer; ``code`` and ``message`` are what Segment's SDKs log."""
        return {
            "success": False,
            "code": self.code,
            "message": self.message,
            "errors": [e.as_json() for e in self.errors],
        }


@dataclass
class CheckedBatch:
    """A request turned into clean events, each with its compact JSON encoding."""

    events: list[Event] = field(default_factory=list)
    encoded: list[bytes] = field(default_factory=list)
    write_key: str | None = None


def decode_body(raw: bytes, content_encoding: str | None, limit: int = MAX_BATCH_BYTES) -> bytes:
    """Undo ``Content-Encoding`` (identity or gzip), never inflating past ``limit`` bytes."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        if len(raw) > limit:
            raise RequestError(413, "too_large", f"request body over {limit} bytes")
        return raw
    if encoding not in ("gzip", "x-gzip"):
        raise RequestError(
            415, "unsupported_encoding", f"Content-Encoding {encoding!r}: expected gzip or identity"
        )
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise RequestError(400, "bad_gzip", f"gzip body does not inflate: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise RequestError(413, "too_large", f"inflated request body over {limit} bytes")
    if not inflater.eof:
        raise RequestError(400, "bad_gzip", "gzip body is truncated")
    return out


# Media types whose body is read as JSON all the same: official SDKs send them.
# RudderStack's Node SDK posts gzip JSON labelled x-www-form-urlencoded (an
# artefact of its HTTP client), which RudderStack's own gateway accepts.
JSON_ANYWAY = frozenset({"application/x-www-form-urlencoded"})


def check_content_type(content_type: str | None) -> None:
    """JSON, or a type an official SDK sends JSON under; a missing header is read as JSON."""
    if content_type is None:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("application/json", "text/json", "") or media.endswith("+json"):
        return
    if media in JSON_ANYWAY:
        return
    raise RequestError(415, "unsupported_media_type", f"Content-Type {media!r}: expected JSON")


def basic_auth_user(authorization: str | None) -> str | None:
    """The user part of ``Authorization: Basic base64(user:password)``, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return decoded.partition(":")[0]


def parse_json(body: bytes) -> Any:
    """Strict JSON (UTF-8, no NaN, depth at most 1024) or a 400 that says why."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(
            400,
            "invalid_json",
            f"body is not valid JSON: {exc}",
            [
                ItemError(
                    -1, "", f"UTF-8 JSON without NaN/Infinity, nested at most 1024 deep ({exc})"
                )
            ],
        ) from None


def body_write_key(doc: Any) -> str | None:
    """``writeKey`` from a parsed body (None when absent); 400 when it is not a string."""
    if not isinstance(doc, dict):
        return None
    key = doc.get("writeKey")
    if key is not None and not isinstance(key, str):
        raise RequestError(
            400,
            "invalid_request",
            "writeKey must be a string",
            [ItemError(-1, "writeKey", "a string")],
        )
    return key


def parse_request(body: bytes, kind: str | None, redact: Redact | None = None) -> CheckedBatch:
    """Parse then :func:`build_batch`: the whole path from decoded bytes to clean events."""
    return build_batch(parse_json(body), kind, redact)


def build_batch(doc: Any, kind: str | None, redact: Redact | None = None) -> CheckedBatch:
    """Validate a parsed body for ``/v1/batch`` (``kind`` None) or ``/v1/<kind>``.

    Raises :class:`RequestError` listing every bad item; otherwise every event
    comes back normalised, with its compact encoding for the log. ``redact``
    (see :mod:`sim.serve.pii`) rewrites each clean event before it is encoded.
    """
    if not isinstance(doc, dict):
        raise RequestError(
            400, "invalid_request", "body must be a JSON object", [ItemError(-1, "", "an object")]
        )
    write_key = body_write_key(doc)
    if kind is not None:
        item = dict(doc)
        item.pop("writeKey", None)
        declared = item.get("type", kind)
        if declared != kind:
            raise RequestError(
                400,
                "invalid_request",
                f"type {declared!r} sent to /v1/{kind}",
                [ItemError(0, "type", f"{kind!r} (or absent) on /v1/{kind}")],
                items=1,
            )
        item["type"] = kind
        items: list[Any] = [item]
        defaults: dict[str, Any] | None = None
    else:
        raw_items = doc.get("batch")
        if not isinstance(raw_items, list):
            raise RequestError(
                400,
                "invalid_request",
                "batch must be an array of events",
                [ItemError(-1, "batch", "an array of events")],
            )
        items = raw_items
        context = doc.get("context")
        if context is not None and not isinstance(context, dict):
            raise RequestError(
                400,
                "invalid_request",
                "batch context must be an object",
                [ItemError(-1, "context", "an object")],
                items=len(items),
            )
        defaults = context or None

    batch = CheckedBatch(write_key=write_key)
    errors: list[ItemError] = []
    oversize = 0
    for index, item in enumerate(items):
        problems = check_event(index, item)
        if problems:
            errors.extend(problems)
            continue
        event: Event = item
        if defaults is not None:
            own = event.get("context")
            event["context"] = {**defaults, **own} if own else dict(defaults)
        if redact is not None:
            redact(item)  # the same dict as ``event``
        if event.get("messageId") in _NO_ID:
            # null or "" is no id at all: derive one, or every such event
            # would be de-duplicated against the first (issue 18).
            event.pop("messageId", None)
            encoded = _encode(event)
            if encoded is not None:
                event["messageId"] = "srv-" + hashlib.sha1(encoded).hexdigest()
        encoded = _encode(event)
        if encoded is None:
            errors.append(ItemError(index, "", f"an event nested at most {MAX_DEPTH} levels deep"))
            continue
        if len(encoded) > MAX_EVENT_BYTES:
            errors.append(ItemError(index, "", f"an event of at most {MAX_EVENT_BYTES} bytes"))
            oversize += 1
            continue
        batch.events.append(event)
        batch.encoded.append(encoded)
    if errors:
        too_large = oversize == len(errors)
        bad = len({e.index for e in errors})
        raise RequestError(
            413 if too_large else 400,
            "too_large" if too_large else "invalid_request",
            f"{bad} of {len(items)} event(s) rejected; nothing of this request was stored",
            errors,
            items=len(items),
        )
    return batch


def _encode(event: Event) -> bytes | None:
    """Compact JSON of one event; None when it is nested deeper than orjson writes."""
    try:
        return orjson.dumps(event)
    except orjson.JSONEncodeError:
        return None


def _is_id(value: Any) -> bool:
    return type(value) is str and 0 < len(value) <= _MAX_ID_CHARS


def _is_whole(value: Any) -> bool:
    """An integer id, also as JSON Schema counts them (``7.0`` is the integer 7)."""
    kind = type(value)
    return kind is int or (kind is float and value.is_integer() and abs(value) < 2**63)


def _is_time(value: Any) -> bool:
    if type(value) is not str or not 10 <= len(value) <= 40:
        return False
    try:
        datetime.fromisoformat(value)  # Python 3.11+: any ISO-8601, "Z" included
    except ValueError:
        return False
    return True


def _is_object(value: Any) -> bool:
    return type(value) is dict


def _is_string(value: Any) -> bool:
    return type(value) is str


def _is_message_id(value: Any) -> bool:
    return type(value) is str and len(value) <= 256


_NO_ID = (None, "")


_ID_FIELDS = frozenset({"userId", "anonymousId", "previousId", "groupId"})
_ID_EXPECTED = f"a non-empty string (or integer) of at most {_MAX_ID_CHARS} chars"
# field -> (check, what was expected); a field that is absent or null is not checked.
_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    **{name: (_is_id, _ID_EXPECTED) for name in _ID_FIELDS},
    "messageId": (_is_message_id, "a string of at most 256 chars (null or empty: derived)"),
    **{name: (_is_object, "an object") for name in _OBJECT_FIELDS},
    **{name: (_is_time, "an ISO-8601 date-time string") for name in _TIME_FIELDS},
    **{name: (_is_string, "a string") for name in _OPTIONAL_STRINGS},
}
_TYPE_EXPECTED = "one of " + ", ".join(SINGLE_TYPES)


def check_event(index: int, item: Any) -> list[ItemError]:
    """Every problem of one event (empty when it is fine); turns integer ids into strings.

    One pass over the keys the event has (a table lookup each), then the
    fields its type requires.
    """
    if type(item) is not dict:
        return [ItemError(index, "", "an event object")]
    errors: list[ItemError] = []
    for key, value in item.items():
        rule = _CHECKS.get(key)
        if rule is None or value is None or rule[0](value):
            continue
        if key in _ID_FIELDS and _is_whole(value):
            item[key] = str(int(value))  # replacing a value does not disturb the iteration
        else:
            errors.append(ItemError(index, key, rule[1]))
    get = item.get
    kind = get("type")
    if type(kind) is not str or kind not in EVENT_TYPES:
        errors.append(ItemError(index, "type", _TYPE_EXPECTED))
    if kind == "alias":
        if get("previousId") is None:
            errors.append(ItemError(index, "previousId", "the previous id (required for alias)"))
        if get("userId") is None:
            errors.append(ItemError(index, "userId", "the new user id (required for alias)"))
    elif get("userId") is None and get("anonymousId") is None:
        errors.append(ItemError(index, "userId", "userId or anonymousId (one is required)"))
    if kind == "track":
        event_name = get("event")
        if not (type(event_name) is str and event_name):
            errors.append(ItemError(index, "event", "a non-empty event name (required for track)"))
    elif kind == "group" and get("groupId") is None:
        errors.append(ItemError(index, "groupId", "a group id (required for group)"))
    return errors
