"""The bridge benchmark's Dash-on-Quart app: ``hypercorn bench.apps.bridge_dash:server``.

With ``BENCH_BRIDGE_VIEWS=flask`` (the default) the server registers the Flask blueprint with
:func:`dash_quart.register_flask_blueprint`; with ``quart`` it registers the native Quart
blueprint instead. The worker's pid goes into an ``X-Worker-Pid`` header: set by the Flask
app for bridged views, as the plain Flask app does, and by an ``after_request`` hook of the
Quart app for native views. ``BENCH_BRIDGE_QUART_HOOK=1`` adds that hook with bridged views
too: it runs for every request, so bridged requests go through Quart's request cycle.
"""

from __future__ import annotations

import os

import flask
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


@dash_quart.flask_app(server).after_request
def _flask_worker_pid(response: flask.Response) -> flask.Response:
    response.headers["X-Worker-Pid"] = PID
    return response


async def _worker_pid(response: Response) -> Response:
    response.headers.setdefault("X-Worker-Pid", PID)
    return response


if VIEWS == "quart" or os.environ.get("BENCH_BRIDGE_QUART_HOOK") == "1":
    server.after_request(_worker_pid)


@server.get("/bench/info")
async def _info() -> dict[str, str]:
    return {**info(BACKEND), "views": VIEWS}
