"""Where published events live: in this process's memory, or in Redis Streams."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

logger = logging.getLogger("dash_quart.broadcast")


class BackendUnavailableError(ConnectionError):
    """The broadcast backend (Redis) cannot be reached."""

#: (event id, event type or None, data)
Record = tuple[str, str | None, Any]
Deliver = Callable[[str, Record], None]


class Backend(Protocol):
    """What a broadcast backend provides to :class:`~dash_quart.broadcast.Broadcaster`."""

    def parse_id(self, event_id: str) -> tuple[int, ...]:
        """A sortable key for an event id; ``ValueError`` when it is not one of ours."""

    async def publish(self, channel: str, event: str | None, data: Any) -> str: ...

    async def history(self, channel: str, after: str) -> list[Record]: ...

    async def latest(self, channel: str) -> tuple[int, ...] | None:
        """The key of the newest event id issued, or None when there is none."""

    async def listen(self, channel: str) -> None:
        """Make sure events published to ``channel`` (by any process) reach ``deliver``."""

    async def unlisten(self, channel: str) -> None: ...

    async def close(self) -> None: ...


class MemoryBackend:
    """Events kept in this process: no service needed, no fan-out across workers."""

    def __init__(self, deliver: Deliver, history: int) -> None:
        self._deliver = deliver
        self._history: dict[str, deque[Record]] = {}
        self._size = history
        self._counter = itertools.count(1)
        self._last = 0

    def parse_id(self, event_id: str) -> tuple[int, ...]:
        if not event_id.isascii() or not event_id.isdigit():
            raise ValueError(f"Not an event id of this stream: {event_id!r}")
        return (int(event_id),)

    async def publish(self, channel: str, event: str | None, data: Any) -> str:
        json.dumps(data)
        self._last = next(self._counter)
        record: Record = (str(self._last), event, data)
        self._history.setdefault(channel, deque(maxlen=self._size)).append(record)
        self._deliver(channel, record)
        return record[0]

    async def history(self, channel: str, after: str) -> list[Record]:
        key = self.parse_id(after)
        return [r for r in self._history.get(channel, ()) if self.parse_id(r[0]) > key]

    async def latest(self, channel: str) -> tuple[int, ...] | None:
        return (self._last,) if self._last else None

    async def listen(self, channel: str) -> None:
        return None

    async def unlisten(self, channel: str) -> None:
        return None

    async def close(self) -> None:
        return None


_STREAM_ID = re.compile(r"^(\d+)-(\d+)$")


class RedisBackend:
    """Events in one Redis Stream per channel: fan-out and replay across workers and hosts.

    Each process runs one reader task per channel that has local subscribers; it blocks on
    ``XREAD`` and hands new entries to the local subscribers.
    """

    def __init__(self, deliver: Deliver, history: int, url: str, prefix: str) -> None:
        try:
            import redis.asyncio as aioredis
        except ImportError:  # pragma: no cover - redis is a dependency of the extra
            raise ImportError(
                "The Redis broadcaster needs redis-py: pip install 'dash-quart[redis]'"
            ) from None
        self._deliver = deliver
        self._size = history
        self._url = url
        self._prefix = prefix
        self._factory = aioredis.from_url
        self._client: Any = None
        self._readers: dict[str, asyncio.Task[None]] = {}

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._factory(self._url, decode_responses=True)
        return self._client

    def _key(self, channel: str) -> str:
        return f"{self._prefix}{channel}"

    def parse_id(self, event_id: str) -> tuple[int, ...]:
        match = _STREAM_ID.match(event_id)
        if match is None:
            raise ValueError(f"Not an event id of this stream: {event_id!r}")
        return (int(match[1]), int(match[2]))

    @staticmethod
    def _record(entry_id: str, fields: dict[str, str]) -> Record:
        return (entry_id, fields.get("e") or None, json.loads(fields.get("d", "null")))

    async def _redis(self, command: str, *args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            return await getattr(self.client, command)(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            raise BackendUnavailableError(f"Redis is unavailable: {error}") from error

    async def publish(self, channel: str, event: str | None, data: Any) -> str:
        fields = {"e": event or "", "d": json.dumps(data, separators=(",", ":"))}
        entry_id: str = await self._redis(
            "xadd", self._key(channel), fields, maxlen=self._size, approximate=True
        )
        return entry_id

    async def history(self, channel: str, after: str) -> list[Record]:
        entries = await self._redis("xrange", self._key(channel), min=f"({after}", max="+")
        return [r for r in (self._parse(channel, *entry) for entry in entries) if r is not None]

    async def latest(self, channel: str) -> tuple[int, ...] | None:
        newest = await self._redis("xrevrange", self._key(channel), count=1)
        return self.parse_id(newest[0][0]) if newest else None

    async def listen(self, channel: str) -> None:
        reader = self._readers.get(channel)
        if reader is not None and not reader.done():
            return
        newest = await self._redis("xrevrange", self._key(channel), count=1)
        cursor = newest[0][0] if newest else "0-0"
        self._readers[channel] = asyncio.create_task(
            self._read(channel, cursor), name=f"dash-quart-broadcast:{channel}"
        )

    def _parse(self, channel: str, entry_id: str, fields: dict[str, str]) -> Record | None:
        try:
            return self._record(entry_id, fields)
        except ValueError:
            logger.warning("Skipping a malformed entry %s of channel %r", entry_id, channel)
            return None

    async def unlisten(self, channel: str) -> None:
        reader = self._readers.pop(channel, None)
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def _read(self, channel: str, cursor: str) -> None:
        key = self._key(channel)
        backoff = 0.1
        while True:
            try:
                response = await self._redis("xread", {key: cursor}, block=5000, count=500)
            except BackendUnavailableError as error:
                logger.warning("Broadcast reader for %r: %s; retrying", channel, error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            except Exception:
                logger.exception("Broadcast reader for %r failed; retrying", channel)
                await asyncio.sleep(5.0)
                continue
            backoff = 0.1
            for _key, entries in response or ():
                for entry_id, fields in entries:
                    cursor = entry_id
                    record = self._parse(channel, entry_id, fields)
                    if record is not None:
                        self._deliver(channel, record)

    async def close(self) -> None:
        for channel in list(self._readers):
            await self.unlisten(channel)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
