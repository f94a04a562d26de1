"""The reference: sse-starlette's ``EventSourceResponse`` fed by an in-process fan-out.

``uvicorn bench.sse.starlette_app:app``. :class:`Hub` is what dash_quart's memory backend
does: one bounded ``asyncio.Queue`` per client, fed by the publisher, each subscriber
JSON-encoding the data it yields. Same routes as :mod:`bench.sse.dash_app`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .publisher import Publisher

PID = str(os.getpid())
BACKEND = "sse-starlette"
QUEUE_SIZE = 256

Record = tuple[str, dict[str, Any]]


class Hub:
    """Channels of subscriber queues; a full queue drops the event for that subscriber."""

    def __init__(self) -> None:
        self.channels: dict[str, set[asyncio.Queue[Record]]] = {}
        self.counter = itertools.count(1)
        self.overflowed = 0

    @property
    def client_count(self) -> int:
        return sum(len(queues) for queues in self.channels.values())

    async def publish(self, channel: str, data: dict[str, Any]) -> str:
        record = (str(next(self.counter)), data)
        for queue in tuple(self.channels.get(channel, ())):
            try:
                queue.put_nowait(record)
            except asyncio.QueueFull:
                self.overflowed += 1
        return record[0]

    async def subscribe(self, channel: str) -> AsyncIterator[ServerSentEvent]:
        queue: asyncio.Queue[Record] = asyncio.Queue(maxsize=QUEUE_SIZE)
        queues = self.channels.setdefault(channel, set())
        queues.add(queue)
        try:
            while True:
                event_id, data = await queue.get()
                yield ServerSentEvent(json.dumps(data, separators=(",", ":")), id=event_id)
        finally:
            queues.discard(queue)


hub = Hub()


async def _send(data: dict[str, Any]) -> str:
    return await hub.publish("fanout", data)


publisher = Publisher(_send)


async def idle(request: Request) -> EventSourceResponse:
    return EventSourceResponse(hub.subscribe("idle"))


async def events(request: Request) -> EventSourceResponse:
    return EventSourceResponse(hub.subscribe("fanout"))


async def start(request: Request) -> JSONResponse:
    try:
        rate = float(request.query_params.get("rate", "20"))
        seconds = float(request.query_params.get("seconds", "10"))
        return JSONResponse(publisher.start(rate, seconds))
    except ValueError as error:
        return JSONResponse({"error": str(error)}, status_code=409)


async def stats(request: Request) -> JSONResponse:
    return JSONResponse(
        {"clients": hub.client_count, "overflowed": hub.overflowed, **publisher.stats()}
    )


async def bench_info(request: Request) -> JSONResponse:
    return JSONResponse({"pid": PID, "backend": BACKEND, "broadcast": "memory"})


app = Starlette(
    routes=[
        Route("/idle", idle),
        Route("/events", events),
        Route("/bench/start", start, methods=["POST"]),
        Route("/bench/stats", stats),
        Route("/bench/info", bench_info),
    ]
)
