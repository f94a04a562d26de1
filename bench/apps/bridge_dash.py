"""The bridge benchmark's Dash-on-Quart app: ``hypercorn bench.apps.bridge_dash:server``.

With ``BENCH_BRIDGE_VIEWS=flask`` (the default) the server registers the Flask blueprint with
:func:`dash_quart.register_flask_blueprint`; with ``quart`` it registers the native Quart
blueprint instead.
"""

from __future__ import annotations

import os

from dash import Dash, html
from quart import Quart, Response

import dash_quart

from . import bridge_blueprint, bridge_native
from .common import PID, check_backend, info

VIEWS = os.environ.get("BENCH_BRIDGE_VIEWS", "flask")

app = Dash(__name__, backend="quart")
app.layout = html.Div("Flask bridge benchmark")
server: Quart = app.server
BACKEND = check_backend(app)

if VIEWS == "flask":
    dash_quart.register_flask_blueprint(
        server, bridge_blueprint.bp, url_prefix=bridge_blueprint.PREFIX
    )
elif VIEWS == "quart":
    server.register_blueprint(bridge_native.bp, url_prefix=bridge_blueprint.PREFIX)
else:
    raise RuntimeError(f"BENCH_BRIDGE_VIEWS must be flask or quart, not {VIEWS!r}")


@server.after_request
async def _worker_pid(response: Response) -> Response:
    response.headers["X-Worker-Pid"] = PID
    return response


@server.get("/bench/info")
async def _info() -> dict[str, str]:
    return {**info(BACKEND), "views": VIEWS}
