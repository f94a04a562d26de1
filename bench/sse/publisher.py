"""The in-server publisher both SSE apps share: ``rate`` events a second, on schedule.

Each event's data is ``{"t": time.time() at publishing, "i": sequence number}``, so that a
client on the same host can compute the delivery latency of every event it receives.
"""

from __future__ import annotations

import asyncio
import statistics
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
