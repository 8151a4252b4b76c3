"""What the OpenAPI document allows, the server accepts: schemathesis from /openapi.json.

schemathesis reads the app's own OpenAPI document and draws request bodies
for every ingest operation in its *positive* mode (instances of the schema,
however odd: integral floats as ids, year 0001, unicode keys, null ids); each
is posted to the app and must be answered 200. Any 4xx here means the spec promises
more than the server keeps; any 5xx is a bug. The complementary direction
(hostile input never a 5xx) is tests/serve/test_app_fuzz.py and
test_app_openapi.py.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from sim.serve.app import AppConfig, build_app
from sim.serve.openapi import openapi

DOC = openapi()
SCHEMAS: dict[str, Any] = DOC["components"]["schemas"]
INGEST = sorted(path for path, ops in DOC["paths"].items() if "requestBody" in ops.get("post", {}))
TALLY: Counter[str] = Counter()


def inline(schema: Any) -> Any:
    """The schema with every ``#/components/schemas/`` reference replaced by its target."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return inline(SCHEMAS[ref.removeprefix("#/components/schemas/")])
        return {k: inline(v) for k, v in schema.items() if k != "description"}
    if isinstance(schema, list):
        return [inline(v) for v in schema]
    return schema


SPEC = schemathesis.openapi.from_dict(DOC)
SPEC.config.generation.update(modes=[GenerationMode.POSITIVE])
CASES = st.one_of([SPEC[path]["POST"].as_strategy() for path in INGEST])


class Harness:
    def __init__(self, data: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.app = build_app(data, AppConfig())
        self.loop.run_until_complete(self.app.startup())
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                      base_url="http://spec.test")  # fmt: skip

    def post(self, path: str, body: bytes) -> httpx.Response:
        call = self.http.post(path, content=body, headers={"Content-Type": "application/json"})
        return self.loop.run_until_complete(call)

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.run_until_complete(self.app.shutdown())
        self.loop.close()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    h = Harness(tmp_path_factory.mktemp("spec"))
    yield h
    h.close()
    print(f"\nspec-drawn requests: {sum(TALLY.values())} {dict(sorted(TALLY.items()))}")


@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])  # fmt: skip
@given(case=CASES)
def test_every_body_the_spec_allows_is_accepted(harness: Harness, case: Any) -> None:
    path, doc = case.path, case.body
    response = harness.post(path, json.dumps(doc).encode())
    TALLY[f"{path} {response.status_code}"] += 1
    assert response.status_code == 200, (path, doc, response.text)


def test_the_spec_states_each_type_rule() -> None:
    """The spec is not just permissive: what the server refuses, the spec refuses too."""
    from jsonschema_rs import Draft202012Validator  # schemathesis's own validator

    event = Draft202012Validator(inline(SCHEMAS["Event"]))
    assert event.is_valid({"type": "alias", "previousId": "a", "userId": "u"})
    for refused in (
        {"type": "alias", "userId": "u"},  # alias without previousId
        {"type": "track", "userId": "u"},  # track without event
        {"type": "page"},  # neither userId nor anonymousId
        {"type": "track", "event": "e", "userId": ""},  # empty id
        {"type": "group", "userId": "u"},  # group without groupId
    ):
        assert not event.is_valid(refused), refused
    single = Draft202012Validator(inline(SCHEMAS["SingleTrack"]))
    assert not single.is_valid({"type": "page", "event": "e", "userId": "u"})  # type vs path
