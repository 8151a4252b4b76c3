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
        responses[code] = _json(_ref("Error"), {"400": "Bad query", "404": "Not found"}[code])
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if params:
        op["parameters"] = params
    return {"get": op}


def _query(name: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": "string"}}


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route this app answers."""
    ident = {"type": ["string", "integer"]}
    obj = {"type": "object"}
    event_props = {
        "type": {"type": "string", "enum": list(validate.SINGLE_TYPES)},
        "messageId": {"type": "string", "minLength": 1, "maxLength": 256},
        "userId": ident,
        "anonymousId": ident,
        "previousId": ident,
        "groupId": ident,
        "event": {"type": "string", "minLength": 1},
        "name": {"type": "string"},
        "category": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "originalTimestamp": {"type": "string", "format": "date-time"},
        "sentAt": {"type": "string", "format": "date-time"},
        "properties": obj,
        "traits": obj,
        "context": obj,
        "integrations": obj,
    }
    event = {"type": "object", "properties": event_props, "required": ["type"]}
    single = {
        "type": "object",
        "properties": {**event_props, "writeKey": {"type": "string"}},
        "description": "One event; type is implied by the path",
    }
    schemas: dict[str, Any] = {
        "Event": event,
        "SingleEvent": single,
        "Batch": {
            "type": "object",
            "required": ["batch"],
            "properties": {
                "batch": {"type": "array", "items": _ref("Event")},
                "context": obj,
                "sentAt": {"type": "string", "format": "date-time"},
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
        paths[f"/v1/{kind}"] = _ingest_op(f"One {kind} event", _ref("SingleEvent"))
    paths["/v1/profiles/{profile_id}"] = _get_op(
        "A stitched profile",
        _json(_ref("Profile"), "The profile"),
        [{"name": "profile_id", "in": "path", "required": True, "schema": {"type": "string"}}],
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
