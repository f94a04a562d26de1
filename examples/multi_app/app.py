"""Two Dash apps on one Quart server, each under its own URL prefix.

    hypercorn examples.multi_app.app:server   # then open /sales/ and /ops/
"""

from __future__ import annotations

import asyncio

from dash import Dash, Input, Output, html
from quart import Quart

server = Quart(__name__)

sales = Dash(__name__, server=server, url_base_pathname="/sales/", title="Sales")
sales.layout = html.Div([html.H1("Sales"), html.Button("Refresh", id="go"), html.P(id="out")])


@sales.callback(Output("out", "children"), Input("go", "n_clicks"))
def refresh_sales(clicks: int | None) -> str:
    return f"sales refreshed {clicks or 0} times"


ops = Dash(__name__, server=server, url_base_pathname="/ops/", title="Ops")
ops.layout = html.Div([html.H1("Ops"), html.Button("Check", id="go"), html.P(id="out")])


@ops.callback(Output("out", "children"), Input("go", "n_clicks"))
async def check_ops(clicks: int | None) -> str:
    await asyncio.sleep(0.1)
    return f"ops checked {clicks or 0} times"


@server.get("/")
async def home() -> str:
    return '<a href="/sales/">Sales</a> · <a href="/ops/">Ops</a>'
