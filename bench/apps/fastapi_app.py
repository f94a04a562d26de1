"""The benchmark app on Dash's FastAPI backend: ``uvicorn bench.apps.fastapi_app:server``."""

from __future__ import annotations

from typing import Any

from dash import Dash
from fastapi import FastAPI

from .common import PID, build, check_backend, info

app = Dash(__name__, backend="fastapi")
build(app)
server: FastAPI = app.server
BACKEND = check_backend(app)
_PID_HEADER = (b"x-worker-pid", PID.encode())


class WorkerPidMiddleware:
    """Pure ASGI middleware, so that the header costs FastAPI as little as an after_request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def _send(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), _PID_HEADER]
            await send(message)

        await self.app(scope, receive, _send)


server.add_middleware(WorkerPidMiddleware)


@server.get("/bench/info")
async def _info() -> dict[str, str]:
    return info(BACKEND)
