from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from dash import Dash, Input, Output, html
from playwright.sync_api import Page, expect
from quart import Response, request

from dash_quart.components import EventSource
from dash_quart.sse import EventStream, ServerSentEvent
from dash_quart.testing import live_server

pytestmark = pytest.mark.browser


@pytest.fixture(name="url")
def _url() -> Iterator[tuple[str, list[str | None]]]:
    app = Dash(__name__, backend="quart")
    seen_ids: list[str | None] = []
    attempts = {"n": 0}
    app.layout = html.Div(
        [
            EventSource(id="es", url="/flaky", events=["custom"]),
            html.Pre(id="error"),
            html.Pre(id="last"),
        ]
    )

    @app.callback(Output("error", "children"), Input("es", "error"))
    def show_error(error: dict[str, Any] | None) -> str:
        return json.dumps(error, sort_keys=True) if error else ""

    @app.callback(
        Output("last", "children"),
        Input("es", "message"), Input("es", "event"), Input("es", "lastEventId"),
        Input("es", "n_messages"), Input("es", "readyState"),
    )
    def show_last(message: Any, event: str, last_id: str, count: int, state: int) -> str:
        return json.dumps([message, event, last_id, count, state])

    @app.server.get("/flaky")
    async def flaky() -> Response:
        attempts["n"] += 1
        seen_ids.append(request.args.get("lastEventId"))
        if attempts["n"] in (2, 3):
            return Response("busy", status=503)
        start = 0 if attempts["n"] == 1 else 10

        async def events() -> AsyncIterator[ServerSentEvent]:
            yield ServerSentEvent({"n": start}, event="custom", id=str(start))
            yield ServerSentEvent("plain text", id=str(start + 1))
            if start == 0:
                return
            await asyncio.Event().wait()

        return EventStream(events())

    with live_server(app) as base:
        yield base, seen_ids


def test_named_events_backoff_and_resume(url: tuple[str, list[str | None]], page: Page) -> None:
    base, seen_ids = url
    page.goto(base)
    # First stream: a JSON "custom" event, then a plain message; then the server ends it.
    # The component reconnects with backoff through two 503s, then resumes after id 1.
    expect(page.locator("#error")).to_contain_text('"reason": "connection lost or refused"')
    expect(page.locator("#last")).to_have_text(
        json.dumps(["plain text", "message", "11", 4, 1]), timeout=15_000
    )
    expect(page.locator("#error")).to_have_text("")
    assert seen_ids[:4] == [None, "1", "1", "1"]
