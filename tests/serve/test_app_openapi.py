"""Property-based requests generated from the app's own OpenAPI document.

Every operation in ``/openapi.json`` gets requests built from its documented
parameters and request-body schema (valid values mixed with wrong types and
extra keys). The answer must be one of the documented status codes, never a
5xx, and a documented JSON body must carry its required keys.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.serve.app import AppConfig, build_app
from sim.serve.openapi import openapi

DOC = openapi()
SCHEMAS: dict[str, Any] = DOC["components"]["schemas"]
OPERATIONS = sorted((path, method) for path, ops in DOC["paths"].items() for method in ops)
junk = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return SCHEMAS[ref.removeprefix("#/components/schemas/")] if ref else schema


def from_schema(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that mostly fit ``schema`` and sometimes do not (wrong type, extra keys)."""
    schema = resolve(schema)
    if "const" in schema:
        fitting: st.SearchStrategy[Any] = st.just(schema["const"])
    elif "enum" in schema:
        fitting = st.sampled_from(schema["enum"])
    else:
        kinds = schema.get("type", "object")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        fitting = st.one_of([_of_type(kind, schema, depth) for kind in kinds])
    return st.one_of(fitting, fitting, fitting, junk)


def _of_type(kind: str, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    if kind == "string":
        if schema.get("format") == "date-time":
            return st.sampled_from(["2026-11-02T07:13:05.123Z", "2026-11-02", "soon", ""])
        return st.text(min_size=schema.get("minLength", 0), max_size=12)
    if kind == "integer":
        return st.integers(min_value=-(2**70), max_value=2**70)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        if depth > 2:
            return st.just([])
        return st.lists(from_schema(schema.get("items", {}), depth + 1), max_size=4)
    props: dict[str, Any] = schema.get("properties", {})
    if depth > 2 or not props:
        return st.dictionaries(st.text(max_size=6), junk, max_size=3)
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {k: from_schema(v, depth + 1) for k, v in props.items() if k in required},
        optional={k: from_schema(v, depth + 1) for k, v in props.items() if k not in required}
        | {"x-extra": junk},
    )


def check_body(schema: dict[str, Any], body: Any) -> None:
    schema = resolve(schema)
    if schema.get("type") == "object" and isinstance(body, dict):
        for key in schema.get("required", []):
            assert key in body, (key, body)


class Harness:
    def __init__(self, data: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.app = build_app(data, AppConfig())
        self.loop.run_until_complete(self.app.startup())
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://openapi.test"
        )

    def request(self, method: str, url: str, body: bytes | None) -> httpx.Response:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        call = self.http.request(method.upper(), url, content=body, headers=headers)
        return self.loop.run_until_complete(call)

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.run_until_complete(self.app.shutdown())
        self.loop.close()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.close()


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, str, bytes | None]:
    path, method = draw(st.sampled_from(OPERATIONS))
    op = DOC["paths"][path][method]
    url = path
    query: dict[str, str] = {}
    for param in op.get("parameters", []):
        value = draw(st.text(min_size=1, max_size=10))
        if param["in"] == "path":
            url = url.replace("{" + param["name"] + "}", quote(value, safe=""))
        elif param.get("required") or draw(st.booleans()):
            query[param["name"]] = value
    if query:
        url += "?" + str(httpx.QueryParams(query))
    body = None
    if "requestBody" in op:
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        body = json.dumps(draw(from_schema(schema))).encode()
    return path, method, url, body


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(req=requests())
def test_every_documented_operation_answers_as_documented(
    harness: Harness, req: tuple[str, str, str, bytes | None]
) -> None:
    path, method, url, body = req
    response = harness.request(method, url, body)
    documented = DOC["paths"][path][method]["responses"]
    assert response.status_code < 500, (url, body, response.text)
    assert str(response.status_code) in documented, (url, body, response.status_code)
    content = documented[str(response.status_code)].get("content", {})
    if "application/json" in content:
        check_body(content["application/json"]["schema"], response.json())


def test_the_document_names_every_route_the_app_answers(harness: Harness) -> None:
    served = harness.request("get", "/openapi.json", None).json()
    assert served == json.loads(json.dumps(DOC))
    for path, method in OPERATIONS:
        if "{" in path:
            continue  # a made-up profile id is a legitimate 404
        body = b"{}" if method == "post" else None
        assert harness.request(method, path, body).status_code != 404, path
