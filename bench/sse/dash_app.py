"""dash_quart's side: a Dash app whose Quart server streams a ``Broadcaster`` channel.

``hypercorn bench.sse.dash_app:server``. ``BENCH_SSE_REDIS_URL`` selects the Redis
backend; without it the broadcaster keeps events in memory. ``BENCH_SSE_GC_THRESHOLD=N``
sets the garbage collector's first threshold to N. Routes: ``/idle`` (a stream
that only pings), ``/events`` (the fan-out channel), ``POST /bench/start?rate=&seconds=``
(publish in the background), ``/bench/stats`` and ``/bench/info``.
"""

from __future__ import annotations

import os
from typing import Any

from dash import Dash, html
from quart import Quart, Response, request

from dash_quart.broadcast import Broadcaster

from ..apps.common import check_backend, info
from .publisher import Publisher

REDIS_URL = os.environ.get("BENCH_SSE_REDIS_URL") or None

app = Dash(__name__, backend="quart")
app.layout = html.Div("dash-quart SSE benchmark")
server: Quart = app.server
BACKEND = check_backend(app)
broadcaster = Broadcaster(server, url=REDIS_URL)


async def _send(data: dict[str, Any]) -> str:
    return await broadcaster.publish("fanout", data)


publisher = Publisher(_send)


@server.get("/idle")
async def _idle() -> Response:
    return broadcaster.stream("idle")


@server.get("/events")
async def _events() -> Response:
    return broadcaster.stream("fanout")


@server.post("/bench/start")
async def _start() -> tuple[dict[str, Any], int]:
    try:
        rate = float(request.args.get("rate", "20"))
        seconds = float(request.args.get("seconds", "10"))
        return publisher.start(rate, seconds), 200
    except ValueError as error:
        return {"error": str(error)}, 409


@server.get("/bench/stats")
async def _stats() -> dict[str, Any]:
    return {"clients": broadcaster.client_count, **publisher.stats()}


@server.get("/bench/info")
async def _info() -> dict[str, str]:
    return {**info(BACKEND), "broadcast": "redis" if REDIS_URL else "memory"}

if os.environ.get("BENCH_SSE_GC_THRESHOLD"):
    # The garbage-collector tuning of docs/sse.md ("Many streams on one worker"), to measure it.
    import gc

    gc.set_threshold(int(os.environ["BENCH_SSE_GC_THRESHOLD"]), 10, 10)
