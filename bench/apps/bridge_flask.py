"""The bridge benchmark's endpoints on a plain Flask app.

Served as ``gunicorn -k gthread bench.apps.bridge_flask:server``.
"""

from __future__ import annotations

from flask import Flask, Response

from .bridge_blueprint import PREFIX, bp
from .common import PID, info

BACKEND = "Flask"

server = Flask(__name__)
server.register_blueprint(bp, url_prefix=PREFIX)


@server.after_request
def _worker_pid(response: Response) -> Response:
    response.headers["X-Worker-Pid"] = PID
    return response


@server.get("/bench/info")
def _info() -> dict[str, str]:
    return {**info(BACKEND), "views": "flask"}
