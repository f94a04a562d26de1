"""The in-server publisher both SSE apps share: ``rate`` events a second, on schedule.

Each event's data is ``{"t": time.time() at publishing, "i": sequence number}``, so that a
client on the same host can compute the delivery latency of every event it receives.

``python -m bench.sse.publisher URL KEY RATE SECONDS START`` runs the same publisher in a
process of its own, publishing through a Redis ``Broadcaster`` from time ``START`` on, and
keeps its figures in the Redis hash ``KEY`` (field ``publisher``), where the app's
``/bench/stats`` finds them.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[object]]

#: The longest run the bench apps accept, so that a wrong request cannot publish forever.
MAX_SECONDS = 600.0
MAX_RATE = 1000.0


class Publisher:
    """Publishes through ``send`` in a background task; one run at a time."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._task: asyncio.Task[None] | None = None
        self.published = 0
        self.lags: list[float] = []
        self.started = 0.0
        self.finished = 0.0
        self.error: str | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, rate: float, seconds: float) -> dict[str, Any]:
        """Start a run now; ``ValueError`` if one is running or the numbers are out of range."""
        if self.running:
            raise ValueError("a run is in progress")
        if not (0 < rate <= MAX_RATE and 0 < seconds <= MAX_SECONDS):
            raise ValueError(f"rate must be in (0, {MAX_RATE}], seconds in (0, {MAX_SECONDS}]")
        self.published, self.lags, self.finished, self.error = 0, [], 0.0, None
        self.started = time.time()
        self._task = asyncio.get_running_loop().create_task(self._run(rate, seconds))
        return {"started": self.started, "events": round(rate * seconds)}

    async def _run(self, rate: float, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        begin = loop.time()
        try:
            for i in range(round(rate * seconds)):
                due = begin + i / rate
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                self.lags.append(loop.time() - due)
                await self._send({"t": time.time(), "i": i})
                self.published += 1
        except Exception as error:
            self.error = f"{type(error).__name__}: {error}"
            raise
        finally:
            self.finished = time.time()

    def stats(self) -> dict[str, Any]:
        """The last run: events published, how late they went out, and how long it took."""
        lags = sorted(self.lags)
        return {
            "running": self.running,
            "published": self.published,
            "publish_s": round(self.finished - self.started, 3) if self.finished else None,
            "lag_ms_p50": round(1000 * statistics.median(lags), 2) if lags else None,
            "lag_ms_max": round(1000 * lags[-1], 2) if lags else None,
            "error": self.error,
        }


async def _external(url: str, key: str, rate: float, seconds: float, start: float) -> None:
    import redis.asyncio as aioredis

    from dash_quart.broadcast import Broadcaster

    broadcaster = Broadcaster(url=url)
    stats = aioredis.from_url(url, decode_responses=True)

    async def send(data: dict[str, Any]) -> str:
        return await broadcaster.publish("fanout", data)

    async def report() -> None:
        await stats.hset(key, "publisher", json.dumps(publisher.stats()))

    publisher = Publisher(send)
    await asyncio.sleep(max(0.0, start - time.time()))
    publisher.start(rate, seconds)
    try:
        while publisher.running:
            await report()
            await asyncio.sleep(0.1)
    finally:
        await report()
        await broadcaster.close()
        await stats.aclose()


def main(argv: list[str]) -> None:
    url, key, rate, seconds, start = argv
    asyncio.run(_external(url, key, float(rate), float(seconds), float(start)))


if __name__ == "__main__":
    main(sys.argv[1:])
