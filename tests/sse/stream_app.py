"""A Quart app with event streams, used by the end-to-end SSE tests."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from quart import Quart, request

from dash_quart.broadcast import Broadcaster
from dash_quart.sse import EventStream, ServerSentEvent

server = Quart(__name__)
broadcaster = Broadcaster(server, url=os.environ.get("SSE_TEST_REDIS_URL"), client_queue=64)
#: tag -> monotonic time at which that stream's source ran its ``finally``.
finalized: dict[str, float] = {}
MARKER_DIR = os.environ.get("SSE_TEST_MARKERS")


def _finish(tag: str) -> None:
    finalized[tag] = time.monotonic()
    if MARKER_DIR:
        with open(os.path.join(MARKER_DIR, tag), "w") as marker:
            marker.write("closed")


@server.get("/ticks/<tag>")
async def ticks(tag: str) -> EventStream:
    interval = float(request.args.get("interval", "0.05"))

    async def source() -> AsyncIterator[ServerSentEvent]:
        try:
            n = 0
            while True:
                yield ServerSentEvent({"n": n}, event="tick", id=str(n))
                n += 1
                await asyncio.sleep(interval)
        finally:
            _finish(tag)

    return EventStream(source())


@server.get("/idle")
async def idle() -> EventStream:
    async def source() -> AsyncIterator[str]:
        yield "hello"
        await asyncio.Event().wait()

    return EventStream(source(), ping=float(request.args.get("ping", "0.2")))


@server.get("/flood/<tag>")
async def flood(tag: str) -> EventStream:
    chunk = "x" * 256 * 1024

    async def source() -> AsyncIterator[str]:
        try:
            while True:
                yield chunk
        finally:
            _finish(tag)

    return EventStream(source(), send_timeout=float(request.args.get("timeout", "1")))


@server.get("/sync")
async def sync_source() -> EventStream:
    def blocking() -> Iterator[dict[str, Any]]:
        for n in range(3):
            time.sleep(0.01)
            yield {"data": f"line {n}", "id": str(n)}

    return EventStream(blocking())


@server.get("/channel/<name>")
async def channel(name: str) -> Any:
    return broadcaster.stream(name, ping=1)


@server.post("/publish/<name>")
async def publish(name: str) -> dict[str, str]:
    payload = await request.get_json()
    event_id = await broadcaster.publish(name, payload, event=request.args.get("event"))
    return {"id": event_id, "pid": str(os.getpid())}


@server.get("/pid")
async def pid() -> dict[str, int]:
    return {"pid": os.getpid()}
