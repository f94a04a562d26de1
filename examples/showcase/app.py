"""dash-quart showcase: a sync and an async callback side by side, and an async JSON route.

Run it with ``make demo`` or ``hypercorn examples.showcase.app:server``.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

from dash import Dash, Input, Output, dcc, html

app = Dash(__name__, backend="quart", title="dash-quart showcase")
server = app.server

app.layout = html.Main(
    [
        html.H1("dash-quart showcase"),
        html.P(
            "The sync callback sleeps in a worker thread; the async one awaits on the event "
            "loop. Neither blocks the other, or the rest of the server."
        ),
        html.Section(
            [
                html.H2("Sync callback"),
                dcc.Input(id="name", value="world", type="text"),
                html.Button("Greet (sync)", id="greet"),
                html.Pre(id="sync-output"),
            ]
        ),
        html.Section(
            [
                html.H2("Async callback"),
                html.Button("Fetch (async)", id="fetch"),
                html.Pre(id="async-output"),
            ]
        ),
        html.Section(
            [
                html.H2("Async JSON route"),
                html.A("/api/status", href="/api/status", id="api-link"),
            ]
        ),
    ]
)


@app.callback(
    Output("sync-output", "children"), Input("greet", "n_clicks"), Input("name", "value")
)
def greet(clicks: int | None, name: str) -> str:
    time.sleep(0.2)
    return f"Hello, {name}! (sync callback #{clicks or 0} in {threading.current_thread().name})"


@app.callback(Output("async-output", "children"), Input("fetch", "n_clicks"))
async def fetch(clicks: int | None) -> str:
    await asyncio.sleep(0.2)
    return f"Fetched asynchronously (async callback #{clicks or 0} on the event loop)"


@server.get("/api/status")
async def status() -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"status": "ok", "backend": type(app.backend).__name__, "pid": os.getpid()}


if __name__ == "__main__":
    app.run(debug=True, port=8050)
