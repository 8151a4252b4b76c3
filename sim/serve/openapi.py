"""The OpenAPI 3.1 document of ``hopsim serve``: every route, its body and its answers.

Built once from the same constants the app dispatches on (the single-event
types of :mod:`sim.serve.validate`, the identifier kinds of the engine), so
the document cannot name a route the app does not answer.
"""

from __future__ import annotations

from typing import Any

from sim.engine.engine import IDENTIFIER_KINDS
from sim.serve import validate


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": _json(_ref("Error"), "Invalid request; every bad item is listed"),
    "401": _json(_ref("Error"), "Missing or wrong write key"),
    "405": _json(_ref("Error"), "Method not allowed"),
    "408": _json(_ref("Error"), "The body did not arrive within the body timeout"),
    "413": _json(_ref("Error"), "Body over 500 KB or an event over 32 KB"),
    "415": _json(_ref("Error"), "Content-Type is not JSON or Content-Encoding is not gzip"),
    "429": {
        "description": "Past capacity; retry after the number of seconds given",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": _ref("Error")}},
    },
    "503": {
        "description": "The disk refused a write (never caused by the request); retry later",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": _ref("Error")}},
    },
}


def _ingest_op(summary: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "security": [{"writeKey": []}, {}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
            "responses": {"200": _json(_ref("Success"), "Stored durably"), **_ERRORS},
        }
    }


def _get_op(
    summary: str, ok: dict[str, Any], params: list[dict[str, Any]] | None = None, *errors: str
) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok}
    for code in errors:
        described = {"400": "Bad query", "401": "Read or write key required", "404": "Not found"}
        responses[code] = _json(_ref("Error"), described[code])
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if params:
        op["parameters"] = params
    return {"get": op}


def _query(name: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": "string"}}


# The date-times the spec promises: RFC 3339 with a real calendar (days up to 28
# in the pattern, for brevity: the server takes every real day, years 0001-9999).
DATE_TIME = (
    r"^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_REQUIRED = {  # what each type needs beyond its type (validate.check_event's rules)
    "track": ["event"],
    "group": ["groupId"],
    "alias": ["previousId", "userId"],
}


def _typed_event(kind: str, single: bool) -> dict[str, Any]:
    """One event of ``kind``: in a batch its ``type`` is required, on ``/v1/<kind>`` implied."""
    rules: dict[str, Any] = {
        "type": "object",
        "properties": {"type": {"const": kind}},
        "required": ([] if single else ["type"]) + _REQUIRED.get(kind, []),
    }
    if kind != "alias":
        rules["anyOf"] = [{"required": ["userId"]}, {"required": ["anonymousId"]}]
    base = _ref("SingleEventFields" if single else "EventFields")
    return {"allOf": [base, rules]}


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route this app answers.

    The event schemas say exactly what the server accepts (tested: every
    instance a JSON-Schema generator draws from them is answered 200), so an
    SDK author can trust them both ways. What JSON Schema cannot say is left
    to the descriptions: 32 KB per event, 500 KB per request, 254 levels of
    nesting.
    """
    ident = {
        "anyOf": [
            {"type": "string", "minLength": 1, "maxLength": 1024},
            {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
        ],
        "description": "strings as sent; integers are turned into strings",
    }
    obj = {"type": "object"}
    stamp = {
        "type": "string",
        "pattern": DATE_TIME,
        "description": "ISO-8601 date-time, e.g. 2026-11-02T07:13:05.123Z (the server reads "
        "any form Python's datetime.fromisoformat reads, 10 to 40 characters)",
    }
    event_props = {
        "type": {"type": "string", "enum": list(validate.SINGLE_TYPES)},
        "messageId": {
            "type": ["string", "null"],
            "maxLength": 256,
            "description": "null or empty: the server derives srv-<sha1 of the event>",
        },
        "userId": ident,
        "anonymousId": ident,
        "previousId": ident,
        "groupId": ident,
        "event": {"type": "string", "minLength": 1},
        "name": {"type": "string"},
        "category": {"type": "string"},
        "timestamp": stamp,
        "originalTimestamp": stamp,
        "sentAt": stamp,
        "receivedAt": stamp,
        "properties": obj,
        "traits": obj,
        "context": obj,
        "integrations": obj,
    }
    fields = {"type": "object", "properties": event_props}
    single_fields = {
        "type": "object",
        "properties": {**event_props, "writeKey": {"type": "string"}},
    }
    events = {
        f"{kind.capitalize()}Event": _typed_event(kind, False) for kind in validate.SINGLE_TYPES
    }
    singles = {
        f"Single{kind.capitalize()}": _typed_event(kind, True) for kind in validate.SINGLE_TYPES
    }
    event = {
        "oneOf": [_ref(name) for name in events],
        "description": "One event; at most 32 KB encoded, nested at most 254 levels deep",
    }
    schemas: dict[str, Any] = {
        "EventFields": fields,
        "SingleEventFields": single_fields,
        **events,
        **singles,
        "Event": event,
        "Batch": {
            "type": "object",
            "required": ["batch"],
            "properties": {
                "batch": {"type": "array", "items": _ref("Event")},
                "context": obj,
                "sentAt": stamp,
                "writeKey": {"type": "string"},
                "integrations": obj,
            },
        },
        "Success": {
            "type": "object",
            "required": ["success"],
            "properties": {"success": {"type": "boolean", "const": True}},
        },
        "Error": {
            "type": "object",
            "required": ["success", "code", "message", "errors"],
            "properties": {
                "success": {"type": "boolean", "const": False},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["index", "field", "expected"],
                        "properties": {
                            "index": {"type": "integer", "description": "-1: the request"},
                            "field": {"type": "string"},
                            "expected": {"type": "string"},
                        },
                    },
                },
            },
        },
        "Stats": {
            "type": "object",
            "required": ["events_accepted", "events_duplicate", "events_rejected", "profiles"],
            "properties": {
                name: {"type": "integer"}
                for name in ("events_accepted", "events_duplicate", "events_rejected", "profiles")
            },
        },
        "Profile": {
            "type": "object",
            "properties": {
                "profile_id": {"type": "string"},
                "kind": {"type": "string"},
                "device_ids": {"type": "array", "items": {"type": "string"}},
                "anonymous_ids": {"type": "array", "items": {"type": "string"}},
                "user_ids": {"type": "array", "items": {"type": "string"}},
            },
        },
    }
    paths: dict[str, Any] = {"/v1/batch": _ingest_op("Many events at once", _ref("Batch"))}
    for kind in validate.SINGLE_TYPES:
        paths[f"/v1/{kind}"] = _ingest_op(f"One {kind} event", _ref(f"Single{kind.capitalize()}"))
    paths["/v1/profiles/{profile_id}"] = _get_op(
        "A stitched profile",
        _json(_ref("Profile"), "The profile"),
        [{"name": "profile_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "401",
        "404",
    )
    lookup = {
        "type": "object",
        "properties": {
            "kind": {"type": "string"},
            "value": {"type": "string"},
            "profile_id": {"type": "string"},
            "profile": _ref("Profile"),
        },
    }
    paths["/v1/identity"] = _get_op(
        "The profile an identifier belongs to (give exactly one)",
        _json(lookup, "The owning profile"),
        [_query(k) for k in IDENTIFIER_KINDS],
        "400",
        "401",
        "404",
    )
    messages = {
        "type": "object",
        "properties": {
            "profile_id": {"type": "string"},
            "messages": {"type": "array", "items": {"type": "object"}},
        },
    }
    paths["/v1/messages"] = _get_op(
        "Messaging decisions for a profile",
        _json(messages, "Decisions, oldest first"),
        [_query("profile_id", required=True)],
        "400",
        "401",
    )
    paths["/v1/stats"] = _get_op("Counters", _json(_ref("Stats"), "Counters"))
    health = {"type": "object", "properties": {"status": {"type": "string"}}}
    paths["/healthz"] = _get_op("Liveness", _json(health, "Serving"))
    paths["/healthz"]["get"]["responses"]["503"] = _json(health, "Still replaying the log")
    paths["/metrics"] = _get_op(
        "Prometheus metrics",
        {
            "description": "Text format 0.0.4",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
    )
    paths["/openapi.json"] = _get_op("This document", _json(obj, "OpenAPI 3.1"))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hopsim serve",
            "version": "0.1.0",
            "description": "Segment-compatible HTTP Tracking API over the hopsim engine",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "writeKey": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "The write key as the Basic user, empty password",
                }
            },
        },
    }
