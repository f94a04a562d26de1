from __future__ import annotations

import asyncio
import gc
import time

import flask
import httpx
import pytest
from dash import Dash

from dash_quart.testing import live_server

pytestmark = pytest.mark.e2e


async def test_sync_flask_views_do_not_block_dash(dash_app: Dash) -> None:
    bp = flask.Blueprint("slow", __name__)

    @bp.get("/wait/<int:n>")
    def wait(n: int) -> dict[str, int]:
        time.sleep(0.2)
        return {"n": n}

    dash_app.server.register_blueprint(bp, url_prefix="/slow")
    with live_server(dash_app) as url:
        async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=10) as client:
            assert (await client.get("/_dash-layout")).status_code == 200

            async def call(n: int) -> int:
                response = await client.get(f"/slow/wait/{n}")
                assert response.status_code == 200
                return int(response.json()["n"])

            async def layout_meanwhile() -> float:
                await asyncio.sleep(0.05)
                started = time.perf_counter()
                assert (await client.get("/_dash-layout")).status_code == 200
                return time.perf_counter() - started

            gc.collect()  # garbage of earlier tests is not collected inside the window
            started = time.perf_counter()
            *numbers, layout_latency = await asyncio.gather(
                *(call(n) for n in range(20)), layout_meanwhile()
            )
            elapsed = time.perf_counter() - started

    assert numbers == list(range(20))
    assert elapsed < 1.0, f"20 concurrent 0.2 s Flask views took {elapsed:.2f} s"
    assert layout_latency < 0.2, f"/_dash-layout took {layout_latency * 1000:.0f} ms meanwhile"
