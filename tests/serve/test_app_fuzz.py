"""Hostile input: a malformed-request corpus and hypothesis fuzzing. Never a 5xx, never a crash.

One app (and one event loop) per test; every request goes through
``httpx.ASGITransport`` so nothing touches the network. After each test the
server must still be healthy and must have stored nothing from refused
requests.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.serve.app import AppConfig, HopsimApp, build_app

INGEST = ["/v1/batch", "/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/alias",
          "/v1/group"]  # fmt: skip
READ = ["/v1/stats", "/healthz", "/metrics", "/openapi.json", "/v1/identity", "/v1/messages",
        "/v1/profiles/x"]  # fmt: skip


class Harness:
    """A started app on a private loop; ``send`` returns the response."""

    def __init__(self, data: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.app: HopsimApp = build_app(data, AppConfig(write_key=None))
        self.loop.run_until_complete(self.app.startup())
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://fuzz.test"
        )

    def send(self, method: str, path: str, content: bytes = b"",
             headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
        request = self.http.request(method, path, content=content, headers=headers or {})
        response = self.loop.run_until_complete(request)
        assert response.status_code < 500, (method, path, content[:200], response.text)
        if response.status_code >= 400 and method != "HEAD":
            body = response.json()
            assert body["success"] is False
            assert body["code"] and body["message"]
        return response

    def close(self) -> None:
        health = self.send("GET", "/healthz")
        assert health.status_code == 200
        self.loop.run_until_complete(self.http.aclose())
        self.loop.run_until_complete(self.app.shutdown())
        self.loop.close()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.close()


JSON_CT = {"Content-Type": "application/json"}
GOOD = {"type": "track", "event": "e", "userId": "u", "messageId": "good-1"}

CORPUS: list[tuple[str, str, bytes, dict[str, str], set[int]]] = [
    ("POST", "/v1/batch", b"", JSON_CT, {400}),
    ("POST", "/v1/batch", b"{", JSON_CT, {400}),
    ("POST", "/v1/batch", b'{"batch": [}', JSON_CT, {400}),
    ("POST", "/v1/batch", b'{"batch": ["\xff\xfe"]}', JSON_CT, {400}),  # bad UTF-8
    ("POST", "/v1/track", b'{"event": "\xc3\x28", "userId": "u"}', JSON_CT, {400}),
    ("POST", "/v1/batch", b"[" * 5000 + b"]" * 5000, JSON_CT, {400}),  # deep nesting
    (
        "POST",
        "/v1/track",
        b'{"event":"e","userId":"u","properties":' + b'{"a":' * 2000 + b"1" + b"}" * 2001,
        JSON_CT,
        {400},
    ),
    ("POST", "/v1/track", b'{"event":"e","userId":"u","properties":{"n":1e999}}', JSON_CT, {400}),
    ("POST", "/v1/track", b'{"event":"e","userId":"u","properties":{"n":NaN}}', JSON_CT, {400}),
    (
        "POST",
        "/v1/track",
        b'{"event":"e","userId":"u","properties":{"n":' + b"9" * 400 + b"}}",
        JSON_CT,
        {200, 400},
    ),
    ("POST", "/v1/track", b'{"event":"e","userId":99999999999999999999999}', JSON_CT, {200, 400}),
    ("POST", "/v1/batch", b'"just a string"', JSON_CT, {400}),
    ("POST", "/v1/batch", b"[]", JSON_CT, {400}),
    ("POST", "/v1/batch", b"null", JSON_CT, {400}),
    ("POST", "/v1/batch", b'{"batch": "x"}', JSON_CT, {400}),
    ("POST", "/v1/batch", b'{"batch": [1, null, [], "s", true]}', JSON_CT, {400}),
    ("POST", "/v1/batch", b'{"batch": [{"type": "track"}]}', JSON_CT, {400}),
    ("POST", "/v1/batch", b'{"batch": [{"userId": "u"}]}', JSON_CT, {400}),
    ("POST", "/v1/alias", b'{"userId": "u"}', JSON_CT, {400}),
    ("POST", "/v1/identify", b"{}", JSON_CT, {400}),
    ("POST", "/v1/track", b'{"userId": {"a": 1}, "event": 5}', JSON_CT, {400}),
    ("POST", "/v1/batch", b'{"batch": [], "writeKey": 7}', JSON_CT, {400}),
    ("POST", "/v1/batch", b'{"batch": [], "context": []}', JSON_CT, {400}),
    (
        "POST",
        "/v1/track",
        b'{"userId":"u","event":"e","timestamp":"2026-02-30T00:00:00Z"}',
        JSON_CT,
        {400},
    ),
    ("POST", "/v1/track", b'{"userId":"u\\u0000","event":"e\\ud800"}', JSON_CT, {200, 400}),
    ("POST", "/v1/track", b'{"userId":"u","userId":"v","event":"e"}', JSON_CT, {200}),
    (
        "POST",
        "/v1/batch",
        orjson.dumps({"batch": [GOOD] * 1} | {"pad": "x" * 600_000}),
        JSON_CT,
        {413},
    ),
    (
        "POST",
        "/v1/track",
        orjson.dumps({**GOOD, "properties": {"x": "y" * 40_000}}),
        JSON_CT,
        {413},
    ),
    (
        "POST",
        "/v1/batch",
        gzip.compress(b" " * 2_000_000),
        {**JSON_CT, "Content-Encoding": "gzip"},
        {413},
    ),
    (
        "POST",
        "/v1/batch",
        b"\x1f\x8b\x08\x00garbage",
        {**JSON_CT, "Content-Encoding": "gzip"},
        {400},
    ),
    ("POST", "/v1/batch", b"{}", {**JSON_CT, "Content-Encoding": "br"}, {415}),
    ("POST", "/v1/batch", b"{}", {"Content-Type": "text/plain"}, {415}),
    # read as JSON (RudderStack's Node SDK labels gzip JSON so): real form data is a 400
    ("POST", "/v1/batch", b"a=1", {"Content-Type": "application/x-www-form-urlencoded"}, {400}),
    ("POST", "/v1/batch", b"{}", {**JSON_CT, "Authorization": "Basic %%%"}, {400}),
    ("POST", "/v1/batch", b"{}", {**JSON_CT, "Content-Length": "abc"}, {400}),
    ("GET", "/v1/batch", b"", {}, {405}),
    ("PUT", "/v1/track", b"{}", JSON_CT, {405}),
    ("DELETE", "/v1/profiles/x", b"", {}, {405}),
    ("PATCH", "/v1/stats", b"", {}, {405}),
    ("POST", "/healthz", b"", {}, {405}),
    ("OPTIONS", "/v1/batch", b"", {}, {405}),
    ("GET", "/v1/identity?anonymousId=%ff%fe", b"", {}, {404}),
    ("GET", "/v1/identity?userId=", b"", {}, {400}),
    ("GET", "/v1/identity?bogus=1", b"", {}, {400}),
    ("GET", "/v1/identity?userId=a&userId=b", b"", {}, {404}),
    ("GET", "/v1/messages?profile_id=", b"", {}, {400}),
    ("GET", "/v1/profiles/" + "x" * 5000, b"", {}, {404}),
    ("GET", "/v1/profiles/%E2%98%83", b"", {}, {404}),
    ("GET", "/nope", b"", {}, {404}),
    ("GET", "/" + "a/" * 2000, b"", {}, {404}),
    ("HEAD", "/v1/stats", b"", {}, {200}),
]


def test_malformed_request_corpus(harness: Harness) -> None:
    for method, path, body, headers, expected in CORPUS:
        response = harness.send(method, path, body, headers)
        assert response.status_code in expected, (method, path, body[:80], response.text[:300])
    stats = harness.send("GET", "/v1/stats").json()
    # Only the corpus lines that may be accepted can have stored anything.
    assert stats["events_accepted"] <= 5


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20,
)  # fmt: skip
FIELDS = [
    "type", "messageId", "userId", "anonymousId", "previousId", "groupId", "event", "name",
    "category", "timestamp", "sentAt", "properties", "traits", "context", "integrations",
]  # fmt: skip
field_values = (
    json_values
    | st.sampled_from(["track", "identify", "page", "screen", "alias", "group", "bogus"])
    | st.sampled_from(["2026-11-02T07:13:05.123Z", "2026-11-02", "not a date", ""])
)
events = st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=8)

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@FUZZ
@given(path=st.sampled_from(INGEST), body=json_values)
def test_any_json_body_is_answered_without_5xx(harness: Harness, path: str, body: Any) -> None:
    response = harness.send("POST", path, json.dumps(body).encode(), JSON_CT)
    assert response.status_code in (200, 400, 413)


@FUZZ
@given(batch=st.lists(events, max_size=6), context=st.none() | json_values)
def test_event_shaped_batches_list_every_bad_item(
    harness: Harness, batch: list[dict[str, Any]], context: Any
) -> None:
    doc: dict[str, Any] = {"batch": batch}
    if context is not None:
        doc["context"] = context
    before = harness.send("GET", "/v1/stats").json()["events_accepted"]
    response = harness.send("POST", "/v1/batch", json.dumps(doc).encode(), JSON_CT)
    after = harness.send("GET", "/v1/stats").json()["events_accepted"]
    if response.status_code == 200:
        assert after - before <= len(batch)
    else:
        assert response.status_code == 400
        assert after == before, "a refused batch stored something"
        errors = response.json()["errors"]
        assert errors
        for error in errors:
            assert -1 <= error["index"] < max(len(batch), 1)
            assert isinstance(error["field"], str) and error["expected"]


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]),
    path=st.sampled_from(INGEST + READ + ["/bench/parse", "/v2/x", "/"]),
    query=st.text(max_size=30),
    body=st.binary(max_size=300),
    content_type=st.sampled_from(["application/json", "text/plain", "", "application/json; x"]),
    encoding=st.sampled_from(["", "gzip", "identity", "deflate"]),
)
def test_random_requests_never_5xx(
    harness: Harness, method: str, path: str, query: str, body: bytes, content_type: str,
    encoding: str,
) -> None:  # fmt: skip
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if encoding:
        headers["Content-Encoding"] = encoding
    target = f"{path}?{httpx.QueryParams({'userId': query, 'profile_id': query})}"
    harness.send(method, target, body if method not in ("GET", "HEAD") else b"", headers)
