from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from dash import Input, Output, html

from dash_quart.testing import callback_body, live_server
from tests.conftest import MakeApp

pytestmark = pytest.mark.e2e


async def test_sync_callbacks_do_not_block_the_loop(make_app: MakeApp) -> None:
    app = make_app()
    app.layout = html.Div([html.Button(id="btn"), html.Div(id="out")])

    @app.callback(Output("out", "children"), Input("btn", "n_clicks"))
    def slow(clicks: int | None) -> str:
        time.sleep(0.5)
        return f"slept {clicks}"

    with live_server(app) as url:
        async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=10) as client:
            assert (await client.get("/_dash-layout")).status_code == 200

            async def call(n: int) -> str:
                body = callback_body(("out", "children"), [("btn", "n_clicks", n)])
                response = await client.post("/_dash-update-component", json=body)
                assert response.status_code == 200
                return str(response.json()["response"]["out"]["children"])

            async def layout_meanwhile() -> float:
                await asyncio.sleep(0.1)
                started = time.perf_counter()
                response = await client.get("/_dash-layout")
                assert response.status_code == 200
                return time.perf_counter() - started

            started = time.perf_counter()
            results = await asyncio.gather(*(call(n) for n in range(10)), layout_meanwhile())
            elapsed = time.perf_counter() - started

    assert results[:10] == [f"slept {n}" for n in range(10)]
    layout_latency = results[10]
    assert elapsed < 1.5, f"10 concurrent 0.5 s sync callbacks took {elapsed:.2f} s"
    assert layout_latency < 0.2, f"/_dash-layout took {layout_latency * 1000:.0f} ms meanwhile"
