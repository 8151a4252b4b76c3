"""Segment request validation: every bad item listed, clean events normalised."""

from __future__ import annotations

import base64
import gzip
from typing import Any

import orjson
import pytest

from sim.serve import validate
from sim.serve.validate import RequestError, build_batch, parse_request


def errors_of(doc: Any, kind: str | None = None) -> list[tuple[int, str]]:
    with pytest.raises(RequestError) as info:
        build_batch(doc, kind)
    return [(e.index, e.field) for e in info.value.errors]


def test_clean_batch_merges_batch_context_and_keeps_item_keys() -> None:
    doc = {
        "batch": [
            {"type": "track", "event": "Opened", "userId": "u1", "messageId": "m1",
             "context": {"ip": "9.9.9.9"}},
            {"type": "identify", "anonymousId": "a1", "messageId": "m2"},
        ],
        "context": {"ip": "1.1.1.1", "library": {"name": "x"}},
    }  # fmt: skip
    batch = build_batch(doc, None)
    assert [e["messageId"] for e in batch.events] == ["m1", "m2"]
    assert batch.events[0]["context"] == {"ip": "9.9.9.9", "library": {"name": "x"}}
    assert batch.events[1]["context"] == {"ip": "1.1.1.1", "library": {"name": "x"}}
    assert [orjson.loads(b) for b in batch.encoded] == batch.events


def test_every_bad_item_is_listed_with_field_and_expectation() -> None:
    doc = {
        "batch": [
            {"type": "track", "userId": "u"},  # no event
            {"type": "identify"},  # no ids
            {"type": "alias", "userId": "u"},  # no previousId
            {"type": "bogus", "userId": "u"},
            "not an object",
            {"type": "page", "userId": "u", "properties": [1], "timestamp": "yesterday"},
            {"type": "group", "userId": "u"},
            {"type": "track", "event": "ok", "userId": "u"},  # fine
        ]
    }
    with pytest.raises(RequestError) as info:
        build_batch(doc, None)
    err = info.value
    assert err.status == 400
    assert err.items == 8
    found = [(e.index, e.field) for e in err.errors]
    assert found == [
        (0, "event"),
        (1, "userId"),
        (2, "previousId"),
        (3, "type"),
        (4, ""),
        (5, "properties"),
        (5, "timestamp"),
        (6, "groupId"),
    ]
    assert all(e.expected for e in err.errors)
    body = err.body()
    assert body["success"] is False and body["code"] == "invalid_request"
    assert "7 of 8" in body["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("userId", ""),
        ("userId", 1.5),
        ("userId", True),
        ("anonymousId", ["a"]),
        ("messageId", 12),
        ("messageId", "x" * 257),
        ("context", "x"),
        ("traits", 3),
        ("integrations", []),
        ("sentAt", 1700000000),
        ("name", 5),
        ("timestamp", "2026-13-45T00:00:00Z"),
    ],
)
def test_wrong_types_are_named(field: str, value: Any) -> None:
    event = {"type": "page", "anonymousId": "a", field: value}
    assert (0, field) in errors_of({"batch": [event]})


def test_integer_ids_become_strings() -> None:
    batch = build_batch({"type": "identify", "userId": 42}, "identify")
    assert batch.events[0]["userId"] == "42"


def test_timestamps_accept_iso_8601_forms() -> None:
    for stamp in ("2026-11-02T07:13:05.123Z", "2026-11-02T07:13:05+02:00", "2026-11-02"):
        build_batch({"type": "track", "event": "e", "userId": "u", "timestamp": stamp}, "track")


def test_single_event_endpoint_implies_type_and_rejects_a_contradiction() -> None:
    batch = build_batch({"event": "e", "userId": "u", "writeKey": "k"}, "track")
    assert batch.events[0]["type"] == "track"
    assert "writeKey" not in batch.events[0]
    assert errors_of({"type": "page", "userId": "u"}, "track") == [(0, "type")]


def test_missing_message_id_is_derived_from_content_so_retries_dedupe() -> None:
    first = build_batch({"event": "e", "userId": "u"}, "track").events[0]["messageId"]
    again = build_batch({"event": "e", "userId": "u"}, "track").events[0]["messageId"]
    other = build_batch({"event": "f", "userId": "u"}, "track").events[0]["messageId"]
    assert first == again != other
    assert first.startswith("srv-")


def test_request_level_errors() -> None:
    assert errors_of([1, 2]) == [(-1, "")]
    assert errors_of({"batch": {}}) == [(-1, "batch")]
    assert errors_of({"batch": [], "context": 3}) == [(-1, "context")]
    assert errors_of({"batch": [], "writeKey": 3}) == [(-1, "writeKey")]
    assert build_batch({"batch": []}, None).events == []


def test_oversize_event_is_413_and_mixed_problems_are_400() -> None:
    big = {"type": "track", "event": "e", "userId": "u", "properties": {"x": "y" * 40_000}}
    with pytest.raises(RequestError) as info:
        build_batch({"batch": [big]}, None)
    assert info.value.status == 413
    with pytest.raises(RequestError) as info:
        build_batch({"batch": [big, {"type": "track"}]}, None)
    assert info.value.status == 400
    assert [e.index for e in info.value.errors] == [0, 1, 1]


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"\xff\xfe{}", b'{"a": NaN}', b"[" * 2000 + b"]" * 2000, b'{"a": 1e999}'],
)
def test_bad_json_is_400(body: bytes) -> None:
    with pytest.raises(RequestError) as info:
        parse_request(body, None)
    assert info.value.status == 400
    assert info.value.code == "invalid_json"


def test_gzip_is_inflated_within_the_limit() -> None:
    body = orjson.dumps({"batch": []})
    assert validate.decode_body(gzip.compress(body), "gzip") == body
    bomb = gzip.compress(b" " * (validate.MAX_BATCH_BYTES + 10))
    with pytest.raises(RequestError) as info:
        validate.decode_body(bomb, "gzip")
    assert info.value.status == 413
    with pytest.raises(RequestError) as info:
        validate.decode_body(b"not gzip", "gzip")
    assert info.value.status == 400
    with pytest.raises(RequestError) as info:
        validate.decode_body(gzip.compress(body)[:-6], "gzip")
    assert info.value.status == 400
    with pytest.raises(RequestError) as info:
        validate.decode_body(body, "br")
    assert info.value.status == 415


def test_content_type_and_basic_auth() -> None:
    for ok in (None, "application/json", "application/json; charset=utf-8", "text/json"):
        validate.check_content_type(ok)
    with pytest.raises(RequestError) as info:
        validate.check_content_type("text/plain")
    assert info.value.status == 415
    token = base64.b64encode(b"key123:").decode()
    assert validate.basic_auth_user(f"Basic {token}") == "key123"
    assert validate.basic_auth_user("Basic !!!") is None
    assert validate.basic_auth_user("Bearer abc") is None
    assert validate.basic_auth_user(None) is None
