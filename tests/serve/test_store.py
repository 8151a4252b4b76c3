"""The append-only log: durable frames, torn tails dropped, de-dup across restarts."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from sim.serve.store import LOG_NAME, EventLog, Store, StoreError, encode_events, frame


def event(message_id: str) -> dict[str, Any]:
    return {"type": "track", "event": "e", "userId": "u", "messageId": message_id}


def encoded(events: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(e) for e in events]


async def write(store: Store, events: list[dict[str, Any]]) -> int:
    admission = store.admit(events, encoded(events))
    await store.commit(admission)
    return len(admission.ids)


def open_store(directory: Path) -> tuple[Store, list[dict[str, Any]]]:
    applied: list[dict[str, Any]] = []
    store = Store(directory, applied.extend)
    store.recover()
    return store, applied


def test_the_engine_reads_behind_the_writer_and_catches_up_in_order(tmp_path: Path) -> None:
    async def main() -> None:
        store, applied = open_store(tmp_path)
        store.start()
        for i in range(30):
            await write(store, [event(f"e{i}-{j}") for j in range(10)])
        assert applied == [] and store.lag_bytes == store.durable > 0
        assert store.apply_pending(max_bytes=1) == 10  # one whole frame at least
        store.apply_pending(max_bytes=2000)
        store.apply_pending()
        assert store.lag_bytes == 0
        assert [e["messageId"] for e in applied] == [
            f"e{i}-{j}" for i in range(30) for j in range(10)
        ]
        assert store.events_applied == store.events_stored == 300
        await store.close()

    asyncio.run(main())


def test_committed_events_are_replayed_once_and_dedupe_survives_restart(tmp_path: Path) -> None:
    async def first() -> None:
        store, applied = open_store(tmp_path)
        store.start()
        assert await write(store, [event("a"), event("b"), event("a")]) == 2
        assert await write(store, [event("b"), event("c")]) == 1
        store.apply_pending()
        assert [e["messageId"] for e in applied] == ["a", "b", "c"]
        await store.close()

    asyncio.run(first())

    async def second() -> None:
        store, applied = open_store(tmp_path)
        assert [e["messageId"] for e in applied] == ["a", "b", "c"]
        assert store.events_stored == 3
        store.start()
        assert await write(store, [event("a"), event("c"), event("d")]) == 1
        await store.close()

    asyncio.run(second())
    log = EventLog(tmp_path)
    ids = [e["messageId"] for batch in log.replay() for e in batch]
    log.close()
    assert ids == ["a", "b", "c", "d"]


@pytest.mark.parametrize("cut", [1, 5, 8, 12, -1])
def test_a_torn_last_frame_is_dropped_and_the_file_truncated(tmp_path: Path, cut: int) -> None:
    log = EventLog(tmp_path)
    log.append([encode_events(encoded([event("a")])), encode_events(encoded([event("b")]))])
    whole = log.size
    log.close()
    torn = frame(encode_events(encoded([event("c")])))
    with open(tmp_path / LOG_NAME, "ab") as f:
        f.write(torn[:cut])
    log = EventLog(tmp_path)
    ids = [e["messageId"] for batch in log.replay() for e in batch]
    assert ids == ["a", "b"]
    assert log.dropped_bytes == len(torn[:cut])
    assert os.path.getsize(tmp_path / LOG_NAME) == whole
    log.append([encode_events(encoded([event("d")]))])
    log.close()
    log = EventLog(tmp_path)
    assert [e["messageId"] for batch in log.replay() for e in batch] == ["a", "b", "d"]
    log.close()


def test_a_corrupted_crc_ends_the_replay_there(tmp_path: Path) -> None:
    log = EventLog(tmp_path)
    log.append([encode_events(encoded([event("a")]))])
    log.append([encode_events(encoded([event("b")]))])
    log.close()
    data = bytearray((tmp_path / LOG_NAME).read_bytes())
    data[-3] ^= 0xFF
    (tmp_path / LOG_NAME).write_bytes(bytes(data))
    log = EventLog(tmp_path)
    assert [e["messageId"] for batch in log.replay() for e in batch] == ["a"]
    log.close()


def test_concurrent_requests_share_one_fsync(tmp_path: Path) -> None:
    async def main() -> tuple[int, int]:
        store, _ = open_store(tmp_path)
        store.start()
        await asyncio.gather(*(write(store, [event(f"m{i}")]) for i in range(50)))
        commits = store.commits
        await store.close()
        return commits, store.events_stored

    commits, stored = asyncio.run(main())
    assert stored == 50
    assert commits < 50


def test_duplicate_only_request_waits_for_the_original_to_be_durable(tmp_path: Path) -> None:
    async def main() -> list[str]:
        store, _ = open_store(tmp_path)
        store.start()
        order: list[str] = []

        async def tagged(name: str, events: list[dict[str, Any]]) -> None:
            await write(store, events)
            order.append(name)

        await asyncio.gather(tagged("original", [event("x")]), tagged("retry", [event("x")]))
        assert store.log.size > 0  # the original was on disk before either answer
        await store.close()
        return order

    assert sorted(asyncio.run(main())) == ["original", "retry"]


def test_a_second_server_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    log = EventLog(tmp_path)
    with pytest.raises(StoreError, match="in use"):
        EventLog(tmp_path)
    log.close()
    EventLog(tmp_path).close()


def test_close_flushes_what_is_queued(tmp_path: Path) -> None:
    async def main() -> None:
        store, _ = open_store(tmp_path)
        store.start()
        events = [event("q1"), event("q2")]
        pending = asyncio.ensure_future(store.commit(store.admit(events, encoded(events))))
        await asyncio.sleep(0)
        await store.close()
        await pending

    asyncio.run(main())
    store, applied = open_store(tmp_path)
    assert [e["messageId"] for e in applied] == ["q1", "q2"]
    store.log.close()
