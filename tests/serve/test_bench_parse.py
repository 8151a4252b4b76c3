"""The benchmark-only parse route: parses like ingest, stores nothing, lives outside sim/."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from benchmarks.parse_server import PATH, ParseBench
from sim.serve.app import build_app


def test_parse_route_counts_and_the_rest_goes_to_the_real_app(tmp_path: Path) -> None:
    async def main() -> tuple[Any, Any, Any, Any]:
        app = build_app(tmp_path)
        async with app.running():
            transport = httpx.ASGITransport(app=ParseBench(app))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                parsed = await http.post(PATH, json={"batch": [1, 2, 3]})
                bad = await http.post(
                    PATH, content=b"{not json", headers={"content-type": "application/json"}
                )
                stats = await http.get("/v1/stats")
                doc = await http.get("/openapi.json")
        return parsed.json(), bad.status_code, stats.json(), doc.json()

    parsed, bad, stats, doc = asyncio.run(main())
    assert parsed == {"success": True, "count": 3}
    assert bad == 400
    assert stats["events_accepted"] == 0  # nothing stored
    assert PATH not in doc["paths"]  # the product does not document it
