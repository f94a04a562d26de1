from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import diskcache
from dash import DiskcacheManager, Input, Output, html

from dash_quart.testing import callback_body
from tests.conftest import MakeApp


async def test_background_callback_with_diskcache(make_app: MakeApp, tmp_path: Path) -> None:
    manager = DiskcacheManager(diskcache.Cache(str(tmp_path / "cache")))
    app = make_app(background_callback_manager=manager)
    app.layout = html.Div([html.Button(id="btn"), html.Div(id="out")])

    @app.callback(Output("out", "children"), Input("btn", "n_clicks"), background=True)
    def slow(clicks: int | None) -> str:
        return f"done {clicks}"

    client = app.server.test_client()
    body = callback_body(("out", "children"), [("btn", "n_clicks", 4)])
    first = await client.post("/_dash-update-component", json=body)
    assert first.status_code == 200
    job: dict[str, Any] = await first.get_json()
    assert "cacheKey" in job and "job" in job

    deadline = time.monotonic() + 30
    while True:
        poll = await client.post(
            "/_dash-update-component",
            json=body,
            query_string={"cacheKey": job["cacheKey"], "job": job["job"]},
        )
        payload = await poll.get_json()
        if "response" in payload:
            break
        assert time.monotonic() < deadline, f"background job did not finish: {payload}"
        await asyncio.sleep(0.1)
    assert payload["response"]["out"]["children"] == "done 4"
