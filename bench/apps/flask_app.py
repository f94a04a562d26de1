"""The benchmark app on Dash's Flask backend: ``gunicorn bench.apps.flask_app:server``."""

from __future__ import annotations

from dash import Dash
from flask import Flask, Response

from .common import FLASK_ASYNC, PID, build, check_backend, info

app = Dash(__name__)
build(app, async_callbacks=FLASK_ASYNC)
server: Flask = app.server
BACKEND = check_backend(app)


@server.after_request
def _worker_pid(response: Response) -> Response:
    response.headers["X-Worker-Pid"] = PID
    return response


@server.get("/bench/info")
def _info() -> dict[str, str]:
    return info(BACKEND)
