"""The benchmark app on Dash's Flask backend: ``gunicorn bench.apps.flask_app:server``."""

from __future__ import annotations

from typing import Any

from dash import Dash

from .common import FLASK_ASYNC, PID, build, check_backend, info

app = Dash(__name__)
build(app, async_callbacks=FLASK_ASYNC)
server: Any = app.server
BACKEND = check_backend(app)


@server.after_request
def _worker_pid(response: Any) -> Any:
    response.headers["X-Worker-Pid"] = PID
    return response


@server.get("/bench/info")
def _info() -> dict[str, str]:
    return info(BACKEND)
