"""On a real Hypercorn server: sync callbacks in the pool share one computation via cache.sync."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
from dash import Input, Output, dcc, html
from dash_quart_caching import Cache

from dash_quart.testing import callback_body, live_server
from tests.conftest import MakeApp

pytestmark = pytest.mark.e2e


async def test_sync_callbacks_on_hypercorn(make_app: MakeApp) -> None:
    app = make_app()
    cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    app.layout = html.Div([dcc.Input(id="in"), html.Div(id="out")])
    calls: list[str] = []
    lock = threading.Lock()

    @app.callback(Output("out", "children"), Input("in", "value"))
    @cache.memoize()
    def slow(value: str) -> str:
        with lock:
            calls.append(threading.current_thread().name)
        time.sleep(0.3)
        return f"{value} #{cache.sync.inc('computed')}"

    @app.server.get("/computed")
    def computed() -> dict[str, int]:
        return {"computed": cache.sync.get("computed")}

    body = callback_body(("out", "children"), [("in", "value", "x")])
    with live_server(app) as url:
        async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
            responses = await asyncio.gather(
                *(client.post(f"{url}/_dash-update-component", json=body) for _ in range(10))
            )
            outputs = {r.json()["response"]["out"]["children"] for r in responses}
            assert (await client.get(f"{url}/computed")).json() == {"computed": 1}
    assert outputs == {"x #1"}
    assert len(calls) == 1 and calls[0].startswith("dash-quart-sync")
