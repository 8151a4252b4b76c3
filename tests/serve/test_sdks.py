"""The official SDKs of both ecosystems deliver every event, unchanged, to a real hopsim serve.

Segment's and RudderStack's Python SDKs (dev dependencies) and their Node SDKs
(``@segment/analytics-node``, ``@rudderstack/rudder-sdk-node``, installed from
npm by this module's own set-up when ``node`` and ``npm`` exist) each send a
known number of identify/page/track events under their own user prefix, in
the SDK's default transport (batching; gzip where it is the default). The
test counts events sent against events stored in the log, and compares what
was stored with what was sent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.serve.store import EventLog
from tests.serve.test_serve import Server

pytestmark = [pytest.mark.slow]

KEY = "wk-sdk"
COUNT = 60
NODE_SDKS = {"@segment/analytics-node": "3.1.0", "@rudderstack/rudder-sdk-node": "3.1.1"}
SEND_JS = Path(__file__).parent / "sdk" / "send.js"


def expected(prefix: str, i: int) -> dict[str, Any]:
    """What event ``i`` of an SDK run carries (mirrors ``events`` in sdk/send.js)."""
    user = f"{prefix}-user-{i % 7}"
    if i % 10 == 0:
        return {"type": "identify", "userId": user, "traits": {"plan": "pro", "seats": i}}
    if i % 10 == 1:
        return {"type": "page", "userId": user, "name": "Docs", "properties": {"path": f"/p/{i}"}}
    return {"type": "track", "userId": user, "event": "Item Viewed",
            "properties": {"n": i, "price": 9.5}}  # fmt: skip


def send_python(make: Callable[..., Any], prefix: str, url: str) -> list[Any]:
    errors: list[Any] = []
    client = make(KEY, url, errors)
    for i in range(COUNT):
        e = expected(prefix, i)
        if e["type"] == "identify":
            client.identify(e["userId"], e["traits"])
        elif e["type"] == "page":
            client.page(e["userId"], name=e["name"], properties=e["properties"])
        else:
            client.track(e["userId"], e["event"], e["properties"])
    client.flush()
    client.shutdown()
    return errors


def segment_python(key: str, url: str, errors: list[Any]) -> Any:
    from segment.analytics import Client

    return Client(write_key=key, host=url, gzip=True, max_retries=0,
                  on_error=lambda error, batch: errors.append(error))  # fmt: skip


def rudderstack_python(key: str, url: str, errors: list[Any]) -> Any:
    from rudderstack.analytics.client import Client

    return Client(write_key=key, host=url, gzip=True, max_retries=0,
                  on_error=lambda error, batch: errors.append(error))  # fmt: skip


@pytest.fixture(scope="module")
def node_sdks() -> Iterator[Path]:
    """``node_modules`` with both Node SDKs (installed once into the venv, pinned)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed (Debian: apt-get install nodejs npm)")
    home = Path(sys.prefix) / "node-sdks"
    home.mkdir(exist_ok=True)
    wanted = {"private": True, "dependencies": NODE_SDKS}
    manifest = home / "package.json"
    installed = all((home / "node_modules" / name / "package.json").exists() for name in NODE_SDKS)
    if not installed or json.loads(manifest.read_text() or "{}") != wanted:
        manifest.write_text(json.dumps(wanted))
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent"],
                              cwd=home, capture_output=True, text=True, timeout=240)  # fmt: skip
        if done.returncode != 0:
            pytest.skip(f"npm install of the Node SDKs failed: {done.stderr.strip()[-300:]}")
    yield home / "node_modules"


def stored(data: Path) -> list[dict[str, Any]]:
    log = EventLog(data)
    try:
        return [e for batch in log.replay() for e in batch]
    finally:
        log.close()


SHAPE = {"identify": ("type", "userId", "traits"),
         "page": ("type", "userId", "name", "properties"),
         "track": ("type", "userId", "event", "properties")}  # fmt: skip


def shape(event: dict[str, Any]) -> dict[str, Any]:
    """The sent fields of a stored event (RudderStack puts identify traits in context.traits)."""
    out = {k: event.get(k) for k in SHAPE[event["type"]]}
    if event["type"] == "identify" and out["traits"] is None:
        out["traits"] = event.get("context", {}).get("traits")
    return out


def check_delivered(events: list[dict[str, Any]], prefix: str) -> None:
    """Every sent event stored once (by its SDK's messageId), with the fields that were sent."""
    mine = [e for e in events if str(e.get("userId", "")).startswith(f"{prefix}-")]
    assert len(mine) == COUNT, f"{prefix}: sent {COUNT}, stored {len(mine)}"
    assert len({e["messageId"] for e in mine}) == COUNT
    sent = Counter(json.dumps(expected(prefix, i), sort_keys=True) for i in range(COUNT))
    kept = Counter(json.dumps(shape(e), sort_keys=True) for e in mine)
    assert kept == sent, f"{prefix}: stored events differ from the sent ones"


def test_python_sdks_deliver_every_event(tmp_path: Path) -> None:
    server = Server(tmp_path, "--write-key", KEY)
    try:
        assert send_python(segment_python, "py-segment", server.url) == []
        assert send_python(rudderstack_python, "py-rudder", server.url) == []
    finally:
        server.stop()
    events = stored(tmp_path)
    check_delivered(events, "py-segment")
    check_delivered(events, "py-rudder")
    print(f"\nPython SDKs: sent {2 * COUNT}, stored {len(events)}")


def test_node_sdks_deliver_every_event(tmp_path: Path, node_sdks: Path) -> None:
    server = Server(tmp_path, "--write-key", KEY)
    reports = []
    try:
        for sdk in ("segment", "rudderstack"):
            done = subprocess.run(
                ["node", str(SEND_JS), sdk, server.url, KEY, f"node-{sdk}", str(COUNT)],
                capture_output=True, text=True, timeout=60,
                env={"NODE_PATH": str(node_sdks), "PATH": "/usr/bin:/bin"},
            )  # fmt: skip
            lines = done.stdout.strip().splitlines()
            assert lines, done.stderr[-2000:]
            reports.append(json.loads(lines[-1]))
    finally:
        server.stop()
    for report in reports:
        assert report["errors"] == [], report
    events = stored(tmp_path)
    check_delivered(events, "node-segment")
    check_delivered(events, "node-rudderstack")
    print(f"\nNode SDKs: sent {2 * COUNT}, stored {len(events)}")
