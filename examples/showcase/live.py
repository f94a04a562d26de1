"""Server-sent events: a market feed published in the background, and announcements."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from dash_quart_login import current_user, login_required
from quart import Blueprint, Quart, request

from dash_quart.broadcast import Broadcaster

blueprint = Blueprint("live", __name__, url_prefix="/api/live")
broadcaster = Broadcaster(url=os.environ.get("REDIS_URL"))
TICK_SECONDS = float(os.environ.get("SHOWCASE_TICK_SECONDS", "1"))


@blueprint.get("/market")
@login_required
async def market() -> Any:
    return broadcaster.stream("market")


@blueprint.get("/announcements")
@login_required
async def announcements() -> Any:
    return broadcaster.stream("announcements")


@blueprint.post("/announcements")
@login_required
async def announce() -> dict[str, Any]:
    payload = await request.get_json(silent=True) or {}
    text = str(payload.get("text", ""))[:280]
    if not text:
        return {"error": "text is required"}, 400  # type: ignore[return-value]
    message = {"text": text, "by": current_user.name, "pid": os.getpid()}
    return {"id": await broadcaster.publish("announcements", message, event="announcement")}


async def _is_publisher(lease_ms: int) -> bool:
    """With Redis, one worker at a time publishes the feed (a renewed lease); else each."""
    backend = getattr(broadcaster, "_backend", None)
    client = getattr(backend, "client", None)
    if client is None:
        return True
    me = str(os.getpid())
    if await client.set("showcase:publisher", me, nx=True, px=lease_ms):
        return True
    if await client.get("showcase:publisher") == me:
        await client.pexpire("showcase:publisher", lease_ms)
        return True
    return False


async def _publish_market() -> None:
    while True:
        now = time.time()
        try:
            if await _is_publisher(int(TICK_SECONDS * 3000)):
                price = 100 + 5 * math.sin(now / 20) + math.sin(now * 1.7)
                await broadcaster.publish(
                    "market", {"time": now * 1000, "price": round(price, 2)}, event="tick"
                )
        except ConnectionError:
            pass
        await asyncio.sleep(TICK_SECONDS)


def init_app(server: Quart) -> None:
    broadcaster.init_app(server)
    server.register_blueprint(blueprint)

    @server.while_serving
    async def _market_feed() -> AsyncIterator[None]:
        task = asyncio.create_task(_publish_market())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
