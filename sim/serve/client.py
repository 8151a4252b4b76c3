"""A typed httpx client for ``hopsim serve``'s read side (and a batch sender).

Tests and the load test ask the server the same questions a person would:
how many events were accepted, which profile an identifier landed in, what
was sent to whom. :class:`HopsimClient` is synchronous (scripts, Locust);
:class:`AsyncHopsimClient` is the same over ``httpx.AsyncClient`` (in-process
tests through ``httpx.ASGITransport``). Both raise :class:`ServerError` for
an unexpected status and return ``None`` for a 404 look-up.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, TypedDict

import httpx
import orjson


class Stats(TypedDict):
    """``GET /v1/stats``."""

    events_accepted: int
    events_duplicate: int
    events_rejected: int
    profiles: int


class IdentityAnswer(TypedDict):
    """``GET /v1/identity``: the identifier and the profile it belongs to."""

    kind: str
    value: str
    profile_id: str
    profile: dict[str, Any]


class ServerError(Exception):
    """A status the caller did not expect, with the server's JSON body when there is one."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        try:
            self.body: Any = response.json()
        except ValueError:
            self.body = response.text
        super().__init__(f"{response.request.method} {response.request.url}: "
                         f"{response.status_code} {self.body}")  # fmt: skip


def auth_header(write_key: str) -> dict[str, str]:
    """Segment's HTTP Basic scheme: the write key as user, empty password."""
    token = base64.b64encode(f"{write_key}:".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _identity_params(
    anonymous_id: str | None, user_id: str | None, device_id: str | None
) -> dict[str, str]:
    given = {"anonymousId": anonymous_id, "userId": user_id, "deviceId": device_id}
    params = {k: v for k, v in given.items() if v is not None}
    if len(params) != 1:
        raise ValueError("give exactly one of anonymous_id, user_id, device_id")
    return params


def _json(response: httpx.Response, allow_404: bool = False) -> Any:
    if allow_404 and response.status_code == 404:
        return None
    if response.status_code != 200:
        raise ServerError(response)
    return orjson.loads(response.content)


def _batch_body(events: Sequence[dict[str, Any]], context: dict[str, Any] | None) -> bytes:
    doc: dict[str, Any] = {"batch": list(events)}
    if context is not None:
        doc["context"] = context
    return orjson.dumps(doc)


_JSON_HEADERS = {"Content-Type": "application/json"}


class HopsimClient:
    """Synchronous client: ``HopsimClient("http://127.0.0.1:8088")``."""

    def __init__(self, base_url: str, write_key: str | None = None, timeout: float = 10.0) -> None:
        headers = dict(_JSON_HEADERS, **(auth_header(write_key) if write_key else {}))
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def __enter__(self) -> HopsimClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def batch(
        self, events: Sequence[dict[str, Any]], context: dict[str, Any] | None = None
    ) -> httpx.Response:
        """``POST /v1/batch``; the response is returned as is (the caller checks it)."""
        return self.http.post("/v1/batch", content=_batch_body(events, context))

    def stats(self) -> Stats:
        result: Stats = _json(self.http.get("/v1/stats"))
        return result

    def profile(self, profile_id: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = _json(
            self.http.get(f"/v1/profiles/{profile_id}"), allow_404=True
        )
        return result

    def identity(
        self,
        *,
        anonymous_id: str | None = None,
        user_id: str | None = None,
        device_id: str | None = None,
    ) -> IdentityAnswer | None:
        params = _identity_params(anonymous_id, user_id, device_id)
        result: IdentityAnswer | None = _json(
            self.http.get("/v1/identity", params=params), allow_404=True
        )
        return result

    def messages(self, profile_id: str) -> list[dict[str, Any]]:
        doc = _json(self.http.get("/v1/messages", params={"profile_id": profile_id}))
        result: list[dict[str, Any]] = doc["messages"]
        return result

    def healthy(self) -> bool:
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def metrics(self) -> str:
        response = self.http.get("/metrics")
        if response.status_code != 200:
            raise ServerError(response)
        return response.text

    def openapi(self) -> dict[str, Any]:
        result: dict[str, Any] = _json(self.http.get("/openapi.json"))
        return result


class AsyncHopsimClient:
    """The same over ``httpx.AsyncClient``; pass ``transport=httpx.ASGITransport(app)``."""

    def __init__(
        self,
        base_url: str = "http://hopsim.test",
        write_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        headers = dict(_JSON_HEADERS, **(auth_header(write_key) if write_key else {}))
        self.http = httpx.AsyncClient(
            base_url=base_url, headers=headers, transport=transport, timeout=timeout
        )

    async def __aenter__(self) -> AsyncHopsimClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def batch(
        self, events: Sequence[dict[str, Any]], context: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.http.post("/v1/batch", content=_batch_body(events, context))

    async def stats(self) -> Stats:
        result: Stats = _json(await self.http.get("/v1/stats"))
        return result

    async def profile(self, profile_id: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = _json(
            await self.http.get(f"/v1/profiles/{profile_id}"), allow_404=True
        )
        return result

    async def identity(
        self,
        *,
        anonymous_id: str | None = None,
        user_id: str | None = None,
        device_id: str | None = None,
    ) -> IdentityAnswer | None:
        params = _identity_params(anonymous_id, user_id, device_id)
        result: IdentityAnswer | None = _json(
            await self.http.get("/v1/identity", params=params), allow_404=True
        )
        return result

    async def messages(self, profile_id: str) -> list[dict[str, Any]]:
        doc = _json(await self.http.get("/v1/messages", params={"profile_id": profile_id}))
        result: list[dict[str, Any]] = doc["messages"]
        return result

    async def metrics(self) -> str:
        response = await self.http.get("/metrics")
        if response.status_code != 200:
            raise ServerError(response)
        return response.text

    async def openapi(self) -> dict[str, Any]:
        result: dict[str, Any] = _json(await self.http.get("/openapi.json"))
        return result
