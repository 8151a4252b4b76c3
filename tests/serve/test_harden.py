"""Regression tests for issue 18, in-process: what was acknowledged but lost, or too open."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson

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
