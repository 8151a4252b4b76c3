"""Regression tests for issue 18, in-process: what was acknowledged but lost, or too open."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson

from sim.serve.pii import Redactor, load_secret
from sim.serve.store import Store, StoreError
from tests.serve.conftest import fill
from tests.serve.test_app import serve


def track(message_id: Any, event: str = "Viewed") -> dict[str, Any]:
    return {"type": "track", "event": event, "userId": "u1", "messageId": message_id}


# -- 1: messageId null / "" ---------------------------------------------------------------


def test_a_null_or_empty_message_id_is_derived_not_shared(tmp_path: Path) -> None:
    async def scenario(app: Any, client: Any) -> dict[str, Any]:
        for i, mid in enumerate([None, None, "", ""]):
            answer = await client.batch([track(mid, event=f"E{i}")])
            assert answer.status_code == 200, answer.text
        # byte-identical events without an id still count once (derived id)
        assert (await client.batch([track(None, event="E0")])).status_code == 200
        stats: dict[str, Any] = await client.stats()
        return stats

    stats = serve(tmp_path, scenario)
    assert stats["events_accepted"] == 4
    assert stats["events_duplicate"] == 1


# -- 2: concurrent duplicates at ENOSPC ----------------------------------------------------


def test_a_duplicate_is_never_acknowledged_when_its_original_fails(small_disk: Path) -> None:
    data = small_disk / "data"
    events = [track(f"m{i}") for i in range(20)]
    encoded = [orjson.dumps(e) for e in events]

    async def main() -> list[str]:
        store = Store(data, lambda _: None)
        store.recover()
        store.start()
        filler = fill(small_disk)
        outcomes = await asyncio.gather(
            store.commit(store.admit(events, encoded)),
            store.commit(store.admit(events, encoded)),
            return_exceptions=True,
        )
        results = ["503" if isinstance(o, StoreError) else "200" for o in outcomes]
        filler.unlink()  # space again: the client's retry must be taken, not called a duplicate
        retry = store.admit(events, encoded)
        await store.commit(retry)
        results.append(f"retry stored {len(retry.ids)}")
        await store.close()
        return results

    assert asyncio.run(main()) == ["503", "503", "retry stored 20"]
    store = Store(data, lambda _: None)
    assert store.recover().events == 20
    store.log.close()


# -- 8: personal data at rest and in answers --------------------------------------------------


def identify(user: str, email: str, phone: str) -> dict[str, Any]:
    return {"type": "identify", "userId": user, "messageId": f"id-{user}",
            "traits": {"email": email, "phone": phone, "name": "Ann"},
            "context": {"ip": "203.0.113.7", "traits": {"email": email}}}  # fmt: skip


def test_emails_phones_and_ips_are_kept_as_keyed_hashes(tmp_path: Path) -> None:
    import hashlib
    import stat

    data = tmp_path / "data"

    async def scenario(app: Any, client: Any) -> Any:
        await client.batch([identify("u1", " Ann@Example.com", "+1 (555) 010-2030")])
        await client.batch([identify("u2", "ann@example.com", "15550102030")])
        return await client.identity(user_id="u1")

    found = serve(data, scenario, write_key="wk")
    log = (data / "events.log").read_bytes()
    # the phone's digit runs, not "555" alone: a hex digest may hold "555" by chance
    for raw in (b"Ann@Example.com", b"ann@example.com", b"010-2030", b"0102030", b"203.0.113.7"):
        assert raw not in log
    assert b'"name":"Ann"' in log  # other traits as sent
    profile = found["profile"]
    # the engine holds the keyed hash of the normalised address and digits (the same
    # normalisation it applies to raw values, so equal values still join)
    keyed = Redactor(load_secret(data))
    assert profile["email_hashes"] == [keyed.digest("ann@example.com")]
    assert profile["phone_hashes"] == [keyed.digest("15550102030")]
    unsalted = hashlib.sha256(b"ann@example.com").hexdigest()
    assert profile["email_hashes"] and unsalted not in profile["email_hashes"]
    assert hashlib.sha256(b"15550102030").hexdigest() not in profile["phone_hashes"]
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("events.log", "lock", "secret.key"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name


def test_keep_raw_traits_keeps_them_as_sent(tmp_path: Path) -> None:
    async def scenario(app: Any, client: Any) -> Any:
        return (await client.batch([identify("u1", "ann@example.com", "5550102030")])).status_code

    assert serve(tmp_path, scenario, keep_raw_traits=True) == 200
    assert b"ann@example.com" in (tmp_path / "events.log").read_bytes()


def test_reads_of_personal_data_need_the_read_or_write_key(tmp_path: Path) -> None:
    import httpx

    from sim.serve.client import auth_header

    async def scenario(app: Any, client: Any) -> list[int]:
        await client.batch([identify("u1", "ann@example.com", "5550102030")])
        statuses = []
        for headers in ({}, auth_header("nope"), auth_header("rk"), auth_header("wk")):
            answer = await client.http.get("/v1/identity?userId=u1", headers=headers)
            statuses.append(answer.status_code)
        bare = httpx.AsyncClient(transport=client.http._transport, base_url="http://t")
        for path in ("/v1/identity?userId=u1", "/v1/messages?profile_id=x", "/v1/profiles/x"):
            statuses.append((await bare.get(path)).status_code)
        for path in ("/healthz", "/metrics", "/openapi.json", "/v1/stats"):
            statuses.append((await bare.get(path)).status_code)
        return statuses

    statuses = serve(tmp_path, scenario, write_key="wk", read_key="rk")
    assert statuses == [200, 401, 200, 200, 401, 401, 401, 200, 200, 200, 200]


# -- 10: what RudderStack's Node SDK sends ----------------------------------------------------


def test_gzip_json_labelled_form_urlencoded_is_accepted(tmp_path: Path) -> None:
    import gzip

    from sim.serve.client import auth_header

    async def scenario(app: Any, client: Any) -> Any:
        body = gzip.compress(orjson.dumps({"batch": [track("rs-1"), track("rs-2")]}))
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Content-Encoding": "gzip", **auth_header("wk")}  # fmt: skip
        answer = await client.http.post("/v1/batch", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        return await client.stats()

    assert serve(tmp_path, scenario, write_key="wk")["events_accepted"] == 2


def test_the_digest_memo_answers_what_hmac_answers() -> None:
    import hashlib
    import hmac

    import sim.serve.pii as pii

    redact = Redactor(b"s" * 32)
    values = [f"10.{i // 256}.{i % 256}" for i in range(pii.DIGESTS_KEPT + 5000)]
    for value in values + values[:100]:  # past the memo's size: it starts afresh
        direct = hmac.new(b"s" * 32, value.encode(), hashlib.sha256).hexdigest()
        assert redact.digest(value) == direct
    assert len(redact._known) <= pii.DIGESTS_KEPT
