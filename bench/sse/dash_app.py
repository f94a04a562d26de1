"""dash_quart's side: a Dash app whose Quart server streams a ``Broadcaster`` channel.

``hypercorn bench.sse.dash_app:server``. ``BENCH_SSE_REDIS_URL`` selects the Redis
backend; without it the broadcaster keeps events in memory. ``BENCH_SSE_GC_THRESHOLD=N``
sets the garbage collector's first threshold to N (0 turns automatic collection off). With
``BENCH_SSE_SHARED_STATS=1`` (and Redis), ``/bench/stats`` reports the subscribers and the
publisher of every worker; adding ``BENCH_SSE_EXTERNAL_PUBLISHER=1`` makes ``/bench/start``
publish from a process of its own.

Routes: ``/idle`` (a stream that only pings), ``/events`` (the fan-out channel),
``POST /bench/start?rate=&seconds=`` (publish in the background), ``/bench/stats`` and
``/bench/info``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

from dash import Dash, html
from quart import Quart, Response, request

from dash_quart.broadcast import Broadcaster

from ..apps.common import check_backend, info
from .publisher import MAX_RATE, MAX_SECONDS, Publisher

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
        if SHARED is not None and os.environ.get("BENCH_SSE_EXTERNAL_PUBLISHER"):
            return await SHARED.publish_elsewhere(rate, seconds), 200
        return publisher.start(rate, seconds), 200
    except ValueError as error:
        return {"error": str(error)}, 409


@server.get("/bench/stats")
async def _stats() -> dict[str, Any]:
    if SHARED is not None:
        return await SHARED.stats()
    return {"clients": broadcaster.client_count, **publisher.stats()}


class SharedStats:
    """With several workers, the stats of all of them, kept in Redis.

    Every worker writes its subscriber count (and, when it runs the publisher, the
    publisher's stats) under a key of its Hypercorn process group every 0.1 s, so that
    ``/bench/stats`` answers the same on whichever worker the request lands.
    """

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self.client = aioredis.from_url(url, decode_responses=True)
        self.key = f"bench:sse:stats:{os.getpgid(0)}"
        self.field = str(os.getpid())
        self.process: asyncio.subprocess.Process | None = None

    async def write(self) -> None:
        fields: dict[str, str] = {f"clients:{self.field}": str(broadcaster.client_count)}
        if publisher.started:  # this worker publishes itself
            fields["publisher"] = json.dumps(publisher.stats())
        await self.client.hset(self.key, mapping=fields)  # type: ignore[arg-type]
        await self.client.expire(self.key, 30)

    async def stats(self) -> dict[str, Any]:
        await self.write()
        fields: dict[str, str] = await self.client.hgetall(self.key)  # type: ignore[assignment]
        total = sum(int(v) for k, v in fields.items() if k.startswith("clients:"))
        found = json.loads(fields["publisher"]) if "publisher" in fields else publisher.stats()
        return {"clients": total, **found, "workers": len(fields) - ("publisher" in fields)}

    async def publish_elsewhere(self, rate: float, seconds: float) -> dict[str, Any]:
        """Publish from a process of its own, starting in 1.5 s (its start-up time)."""
        if not (0 < rate <= MAX_RATE and 0 < seconds <= MAX_SECONDS):
            raise ValueError(f"rate must be in (0, {MAX_RATE}], seconds in (0, {MAX_SECONDS}]")
        start = time.time() + 1.5
        initial = {"running": True, "published": 0, "error": None}
        await self.client.hset(self.key, "publisher", json.dumps(initial))
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.sse.publisher", REDIS_URL or "", self.key,
            str(rate), str(seconds), str(start),
        )  # fmt: skip
        return {"started": start, "events": round(rate * seconds)}

    async def run(self) -> None:
        while True:
            await self.write()
            await asyncio.sleep(0.1)


SHARED = SharedStats(REDIS_URL) if REDIS_URL and os.environ.get("BENCH_SSE_SHARED_STATS") else None


@server.before_serving
async def _start_shared_stats() -> None:
    if SHARED is not None:
        server.add_background_task(SHARED.run)


@server.get("/bench/info")
async def _info() -> dict[str, str]:
    return {**info(BACKEND), "broadcast": "redis" if REDIS_URL else "memory"}


if os.environ.get("BENCH_SSE_GC_THRESHOLD"):
    # The garbage-collector tuning of docs/sse.md ("Many streams on one worker"), to measure it.
    import gc

    gc.set_threshold(int(os.environ["BENCH_SSE_GC_THRESHOLD"]), 10, 10)
