"""The benchmark app on Dash's Quart backend: ``hypercorn bench.apps.quart_app:server``.

With dash_quart installed it runs on ``QuartBackend``; ``DASH_QUART_AUTO=0`` keeps Dash's
stock ``QuartDashServer``.
"""

from __future__ import annotations

from dash import Dash
from quart import Quart, Response

from .common import PID, build, check_backend, info

app = Dash(__name__, backend="quart")
build(app)
server: Quart = app.server
BACKEND = check_backend(app)


@server.after_request
async def _worker_pid(response: Response) -> Response:
    response.headers["X-Worker-Pid"] = PID
    return response


@server.get("/bench/info")
async def _info() -> dict[str, str]:
    return info(BACKEND)
