"""The ASGI app in-process (httpx.ASGITransport, no network): Segment semantics."""

from __future__ import annotations

import asyncio
import gzip
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import httpx
import orjson

from sim.serve.app import AppConfig, HopsimApp, build_app
from sim.serve.client import AsyncHopsimClient, auth_header

T = TypeVar("T")


def serve(
    data: Path,
    scenario: Callable[[HopsimApp, AsyncHopsimClient], Awaitable[T]],
    write_key: str | None = None,
    **config: Any,
) -> T:
    """Run ``scenario`` against a started app over ``data``; shut it down after."""

    async def main() -> T:
        app = build_app(data, AppConfig(write_key=write_key, **config))
        async with app.running():
            transport = httpx.ASGITransport(app=app)
            async with AsyncHopsimClient(write_key=write_key, transport=transport) as client:
                return await scenario(app, client)

    return asyncio.run(main())


def track(message_id: str, user: str = "u1", anon: str = "a1") -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Product Viewed",
        "messageId": message_id,
        "userId": user,
        "anonymousId": anon,
        "timestamp": "2026-11-02T07:13:05.123Z",
        "context": {"device": {"id": "d1", "type": "phone"}},
    }


def test_each_single_event_endpoint_stores_its_type(tmp_path: Path) -> None:
    bodies = {
        "identify": {"userId": "u1", "anonymousId": "a1", "traits": {"name": "Ann"}},
        "track": {"userId": "u1", "event": "Signed In"},
        "page": {"anonymousId": "a1", "name": "Home"},
        "screen": {"anonymousId": "a2", "name": "Cart"},
        "alias": {"previousId": "a2", "userId": "u1"},
        "group": {"userId": "u1", "groupId": "g1"},
    }

    async def scenario(app: HopsimApp, client: AsyncHopsimClient) -> dict[str, Any]:
        for kind, body in bodies.items():
            response = await client.http.post(f"/v1/{kind}", json=body)
            assert response.status_code == 200, response.text
            assert response.json() == {"success": True}
        app.catch_up()
        return app.stats()

    stats = serve(tmp_path, scenario)
    assert stats["events_accepted"] == 6
    assert stats["events_by_type"] == dict.fromkeys(bodies, 1)


def test_a_retried_batch_is_counted_once(tmp_path: Path) -> None:
    events = [track(f"m{i}") for i in range(10)]

    async def scenario(app: HopsimApp, client: AsyncHopsimClient) -> Any:
        for _ in range(3):
            assert (await client.batch(events)).status_code == 200
        return await client.stats()

    stats = serve(tmp_path, scenario)
    assert stats["events_accepted"] == 10
    assert stats["events_duplicate"] == 20


def test_a_bad_item_rejects_the_whole_batch_and_lists_every_problem(tmp_path: Path) -> None:
    async def scenario(app: HopsimApp, client: AsyncHopsimClient) -> tuple[Any, Any]:
        bad = [track("ok1"), {"type": "track", "userId": "u"}, {"type": "identify"}, track("ok2")]
        response = await client.batch(bad)
        assert response.status_code == 400
        return response.json(), await client.stats()

    body, stats = serve(tmp_path, scenario)
    assert body["success"] is False
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "event"), (2, "userId")]
    assert stats["events_accepted"] == 0
    assert stats["events_rejected"] == 4


def test_write_key_in_basic_auth_or_body(tmp_path: Path) -> None:
    async def scenario(app: HopsimApp, client: AsyncHopsimClient) -> list[int]:
        body = {"batch": [track("k1")]}
        plain = {"Content-Type": "application/json"}
        codes = []
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as raw:
            codes.append((await raw.post("/v1/batch", json=body, headers=plain)).status_code)
            wrong = {**plain, **auth_header("nope")}
            codes.append((await raw.post("/v1/batch", json=body, headers=wrong)).status_code)
            in_body = {**body, "writeKey": "sekret"}
            codes.append((await raw.post("/v1/batch", json=in_body, headers=plain)).status_code)
            right = {**plain, **auth_header("sekret")}
            codes.append((await raw.post("/v1/track", json=track("k2"), headers=right)).status_code)
            wrong_body = {**body, "writeKey": "nope"}
            codes.append((await raw.post("/v1/batch", json=wrong_body, headers=plain)).status_code)
        return codes

    assert serve(tmp_path, scenario, write_key="sekret") == [401, 401, 200, 200, 401]


def test_gzip_bodies_and_batch_context(tmp_path: Path) -> None:
    async def scenario(app: HopsimApp, client: AsyncHopsimClient) -> Any:
        doc = {"batch": [track("g1")], "context": {"ip": "10.0.0.1"}}
        response = await client.http.post(
            "/v1/batch",
            content=gzip.compress(orjson.dumps(doc)),
            headers={"Content-Encoding": "gzip"},
        )
        assert response.status_code == 200
        return await client.stats()

    assert serve(tmp_path, scenario)["events_accepted"] == 1
    log = (tmp_path / "events.log").read_bytes()
    # the batch context reached the event; its IP is kept as a keyed hash (issue 18)
    assert b'"ip":"' in log and b"10.0.0.1" not in log and b'"device"' in log


def test_size_type_method_and_route_errors(tmp_path: Path) -> None:
    async def scenario(app: HopsimApp, client: AsyncHopsimClient) -> dict[str, httpx.Response]:
        http = client.http
        huge = orjson.dumps({"batch": [track(f"h{i}") for i in range(3000)]})
        big_event = {**track("b1"), "properties": {"blob": "x" * 40_000}}
        return {
            "batch_413": await http.post("/v1/batch", content=huge),
            "event_413": await http.post("/v1/batch", json={"batch": [big_event]}),
            "single_413": await http.post("/v1/track", json=big_event),
            "415": await http.post(
                "/v1/batch", content=b"{}", headers={"Content-Type": "text/plain"}
            ),
            "gzip_415": await http.post(
                "/v1/batch", content=b"{}", headers={"Content-Encoding": "br"}
            ),
            "get_405": await http.get("/v1/batch"),
            "post_405": await http.post("/v1/stats"),
            "404": await http.get("/v2/nothing"),
            "profile_404": await http.get("/v1/profiles/nobody"),
            "bench_404": await http.post("/bench/parse", json={"batch": []}),
        }

    answers = serve(tmp_path, scenario)
    for name, response in answers.items():
        assert response.status_code == int(name.split("_")[-1]), (name, response.text)
        body = response.json()
        assert body["success"] is False and body["message"], name
    assert answers["get_405"].headers["allow"] == "POST"
    assert answers["post_405"].headers["allow"] == "GET, HEAD"


def test_read_side_identity_profile_messages_stats(tmp_path: Path) -> None:
    async def scenario(app: HopsimApp, client: AsyncHopsimClient) -> None:
        await client.http.post("/v1/identify", json={"userId": "ann", "anonymousId": "anon-1"})
        await client.batch([track("r1", user="ann", anon="anon-1")])
        found = await client.identity(anonymous_id="anon-1")
        assert found is not None
        assert "ann" in found["profile"]["user_ids"]
        by_user = await client.identity(user_id="ann")
        assert by_user is not None and by_user["profile_id"] == found["profile_id"]
        profile = await client.profile(found["profile_id"])
        assert profile is not None and profile["profile_id"] == found["profile_id"]
        assert await client.identity(user_id="nobody") is None
        assert await client.messages(found["profile_id"]) == []
        assert (await client.http.get("/v1/identity")).status_code == 400
        assert (await client.http.get("/v1/identity?userId=a&anonymousId=b")).status_code == 400
        assert (await client.http.get("/v1/messages")).status_code == 400
        stats = await client.stats()
        assert stats["profiles"] >= 1
        assert (await client.http.get("/healthz")).json() == {"status": "ok"}

    serve(tmp_path, scenario)


def test_metrics_are_prometheus_text(tmp_path: Path) -> None:
    async def scenario(app: HopsimApp, client: AsyncHopsimClient) -> str:
        await client.batch([track("p1")])
        return await client.metrics()

    text = serve(tmp_path, scenario)
    sample = re.compile(r'^[a-z_:][a-z0-9_:]*(\{([a-z_]+="[^"]*",?)*\})? -?[0-9.e+]+$')
    for line in text.splitlines():
        assert line.startswith(("# HELP ", "# TYPE ")) or sample.match(line), line
    assert "hopsim_events_accepted_total 1" in text
    assert 'hopsim_http_requests_total{route="/v1/batch",status="200"} 1' in text


def test_openapi_documents_every_route_and_its_refs_resolve(tmp_path: Path) -> None:
    async def scenario(app: HopsimApp, client: AsyncHopsimClient) -> dict[str, Any]:
        return await client.openapi()

    doc = serve(tmp_path, scenario)
    assert doc["openapi"].startswith("3.")
    expected = {
        "/v1/batch", "/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/alias",
        "/v1/group", "/v1/profiles/{profile_id}", "/v1/identity", "/v1/messages",
        "/v1/stats", "/healthz", "/metrics", "/openapi.json",
    }  # fmt: skip
    assert set(doc["paths"]) == expected

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if "$ref" in node else []
            return found + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(doc):
        name = ref.removeprefix("#/components/schemas/")
        assert name in doc["components"]["schemas"], ref
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert method in ("get", "post"), path
            assert "200" in op["responses"], path
            for param in op.get("parameters", []):
                assert param["in"] in ("query", "path")


def test_past_capacity_answers_429_and_recovers(tmp_path: Path) -> None:
    async def scenario(app: HopsimApp, client: AsyncHopsimClient) -> tuple[list[int], int, Any]:
        sends = [client.batch([track(f"o{i}-{j}") for j in range(20)]) for i in range(60)]
        responses = await asyncio.gather(*sends)
        for response in responses:
            if response.status_code == 429:
                assert response.headers["retry-after"] == "1"
                assert response.json()["code"] == "rate_limited"
        after = await client.batch([track("after")])
        stats = await client.stats()
        return [r.status_code for r in responses], after.status_code, stats

    codes, after, stats = serve(tmp_path, scenario, max_inflight=2)
    assert set(codes) == {200, 429}
    assert after == 200
    assert stats["events_accepted"] == 20 * codes.count(200) + 1
    assert stats["inflight"] == 0


def test_restart_rebuilds_counts_profiles_and_dedup(tmp_path: Path) -> None:
    async def first(app: HopsimApp, client: AsyncHopsimClient) -> Any:
        await client.http.post("/v1/identify", json={"userId": "bo", "anonymousId": "bo-anon"})
        await client.batch([track(f"s{i}", user="bo", anon="bo-anon") for i in range(5)])
        return await client.identity(user_id="bo")

    async def second(app: HopsimApp, client: AsyncHopsimClient) -> tuple[Any, Any]:
        again = await client.batch([track(f"s{i}", user="bo", anon="bo-anon") for i in range(5)])
        assert again.status_code == 200
        return await client.identity(user_id="bo"), await client.stats()

    before = serve(tmp_path, first)
    after, stats = serve(tmp_path, second)
    assert stats["events_accepted"] == 6
    assert stats["events_duplicate"] == 5
    assert before is not None and after is not None
    assert sorted(after["profile"]["anonymous_ids"]) == sorted(before["profile"]["anonymous_ids"])


def _holds(value: Any, marker: str, depth: int = 4) -> bool:
    """Whether ``value`` is (or contains, a few levels down) the request's text or parse."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return marker.encode() in bytes(value)
    if isinstance(value, str):
        return marker in value
    if depth and isinstance(value, dict):
        return any(_holds(v, marker, depth - 1) for v in value.values())
    if depth and isinstance(value, (list, tuple)):
        return any(_holds(v, marker, depth - 1) for v in value)
    return False


def test_the_request_body_and_its_parse_are_released_before_the_fsync(tmp_path: Path) -> None:
    """While a request waits for its fsync, the app holds only the frame bytes (in the
    admission), not the body it read nor the events it parsed: a burst of waiting
    requests must not keep every parsed batch alive. Both doors: header key, body key."""
    marker = "held-across-the-fsync"
    held: list[list[str]] = []

    async def scenario(app: HopsimApp, client: AsyncHopsimClient) -> list[int]:
        store = app.store
        assert store is not None
        commit = store.commit

        async def watched_commit(admission: Any) -> None:
            # The frames of the serving code on the way to this commit, as they stand now.
            names: list[str] = []
            frame: FrameType | None = sys._getframe(1)
            while frame is not None:
                if frame.f_code.co_filename.endswith(str(Path("sim", "serve", "app.py"))):
                    names += [k for k, v in frame.f_locals.items() if _holds(v, marker)]
                frame = frame.f_back
            held.append(names)
            await commit(admission)

        store.commit = watched_commit  # type: ignore[method-assign]
        plain = {"Content-Type": "application/json"}
        body = {"batch": [track(f"{marker}-{i}") for i in range(3)]}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as raw:
            by_header = {**plain, **auth_header("sekret")}
            first = await raw.post("/v1/batch", json=body, headers=by_header)
            in_body = {"writeKey": "sekret", "batch": [track(f"{marker}-b{i}") for i in range(3)]}
            second = await raw.post("/v1/batch", json=in_body, headers=plain)
        return [first.status_code, second.status_code]

    assert serve(tmp_path, scenario, write_key="sekret") == [200, 200]
    assert held == [[], []]
