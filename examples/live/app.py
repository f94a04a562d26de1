"""A live dashboard fed by server-sent events.

A background task publishes a price tick every half second to the ``prices`` channel; the
page's ``EventSource`` receives it and callbacks update a graph and counters. POST to
``/live/note`` to push a note to every open page (on a channel of its own)::

    hypercorn examples.live.app:server
    curl -X POST -H 'Content-Type: application/json' -d '{"text": "hello"}' \\
        http://127.0.0.1:8000/live/note

Set ``REDIS_URL`` (for example ``redis://127.0.0.1:6379/0``) to broadcast across workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from typing import Any

from dash import Dash, Input, Output, dcc, html, no_update
from quart import request

from dash_quart.broadcast import Broadcaster
from dash_quart.components import EventSource

app = Dash(__name__, backend="quart", title="dash-quart live")
server = app.server
broadcaster = Broadcaster(server, url=os.environ.get("REDIS_URL"))
TICK_SECONDS = float(os.environ.get("LIVE_TICK_SECONDS", "0.5"))

app.layout = html.Main(
    [
        html.H1("Live prices"),
        EventSource(id="feed", url="/live/prices", events=["tick"]),
        EventSource(id="notes", url="/live/notes", events=["note"]),
        html.P(["Connection: ", html.Strong("connecting", id="state")]),
        html.P(["Last price: ", html.Strong("-", id="price"), " · events: ",
                html.Span("0", id="count")]),
        html.P(["Note: ", html.Em("none yet", id="note")]),
        dcc.Graph(
            id="graph",
            figure={"data": [{"x": [], "y": [], "mode": "lines", "name": "ACME"}],
                    "layout": {"height": 320, "margin": {"t": 20}}},
        ),
    ]
)

STATES = {0: "connecting", 1: "open", 2: "closed"}


@app.callback(
    Output("state", "children"), Input("feed", "readyState"), Input("notes", "readyState")
)
def show_state(feed: int | None, notes: int | None) -> str:
    # Open once both streams are: until then a published note could arrive before its stream.
    states = {feed or 0, notes or 0}
    worst = 2 if 2 in states else 0 if 0 in states else 1
    return STATES[worst]


@app.callback(
    Output("price", "children"),
    Output("count", "children"),
    Output("graph", "extendData"),
    Input("feed", "message"),
    Input("feed", "event"),
    Input("feed", "n_messages"),
    prevent_initial_call=True,
)
def on_event(message: Any, event: str | None, count: int | None) -> tuple[Any, ...]:
    if event == "tick" and isinstance(message, dict):
        point = {"x": [[message["time"]]], "y": [[message["price"]]]}
        return f"{message['price']:.2f}", str(count or 0), [point, [0], 200]
    return no_update, str(count or 0), no_update


# Notes come on their own channel, so that ticks never replace a note before it is shown
# (an EventSource's ``message`` is the latest event), and a clientside callback shows them
# without a round trip to the server.
app.clientside_callback(
    """
    function (message) {
        if (message && message.text !== undefined) {
            return String(message.text);
        }
        return window.dash_clientside.no_update;
    }
    """,
    Output("note", "children"),
    Input("notes", "message"),
    prevent_initial_call=True,
)


@server.get("/live/prices")
async def prices() -> Any:
    return broadcaster.stream("prices")


@server.get("/live/notes")
async def notes() -> Any:
    return broadcaster.stream("notes")


@server.post("/live/note")
async def note() -> dict[str, str]:
    payload = await request.get_json(silent=True) or {}
    text = str(payload.get("text", ""))[:200]
    event_id = await broadcaster.publish("notes", {"text": text}, event="note")
    return {"id": event_id}


async def _publish_ticks() -> None:
    price = 100.0
    while True:
        price = max(1.0, price + random.gauss(0, 0.5))
        await broadcaster.publish(
            "prices", {"price": round(price, 2), "time": time.time() * 1000}, event="tick"
        )
        await asyncio.sleep(TICK_SECONDS)


@server.while_serving
async def _ticker() -> Any:
    task = asyncio.create_task(_publish_ticks()) if TICK_SECONDS > 0 else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


if __name__ == "__main__":
    app.run(debug=True)
