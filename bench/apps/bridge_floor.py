"""The plain Flask app of ``bridge_flask`` behind two ASGI adapters, to serve on Hypercorn.

``floor`` is the least any ASGI server can do to host a Flask app whose views run off the
event loop: read the body, build the WSGI environ (with the function the bridge uses), call
the app in a thread pool like dash_quart's (same size, same hand-off), and send what it
returned.
No framework runs around it, so no bridge on Hypercorn can cost less.
``hypercorn bench.apps.bridge_floor:floor``.

``asgiref`` is the standard adapter, asgiref's ``WsgiToAsgi``.
``hypercorn bench.apps.bridge_floor:asgiref``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from asgiref.wsgi import WsgiToAsgi

from dash_quart.concurrency import SyncPool, sync_workers
from dash_quart.flask_compat.wsgi import build_environ

from .bridge_flask import server

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_pool = SyncPool(sync_workers())


def _call(environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return None

    app_iter = server.wsgi_app(environ, start_response)
    try:
        body = b"".join(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    status, headers = started
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return int(status[:3]), raw, body


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def floor(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    environ = build_environ(dict(scope), b"".join(chunks))
    status, headers, body = await _pool.call(_call, environ)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


asgiref = WsgiToAsgi(server)
