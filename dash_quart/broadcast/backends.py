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

#: How long one ``XREAD`` blocks: well under redis-py's default socket timeout of 5 s, so a
#: quiet channel's read returns empty instead of timing out and reconnecting.
READ_BLOCK_MS = 2000


class _Reader:
    """A channel's reader task, and the future it resolves once it is following the stream."""

    __slots__ = ("ready", "stopping", "task")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.ready: asyncio.Future[None] = loop.create_future()
        self.task: asyncio.Task[None]
        self.stopping = False

    def stopped(self, task: asyncio.Task[None]) -> None:
        """Fail ``ready`` if the task ended before it: subscribers must not wait forever."""
        if self.ready.done():
            return
        error = None if task.cancelled() else task.exception()
        self.ready.set_exception(
            error if error is not None else BackendUnavailableError("The reader was stopped.")
        )
        self.ready.exception()  # marked as retrieved: its subscriber may have gone already


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
        self._readers: dict[str, _Reader] = {}
        #: Readers whose last subscriber left, until their current XREAD returns.
        self._stopping: dict[str, _Reader] = {}

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
        stopping = self._stopping.get(channel)
        if (reader is None or reader.task.done()) and stopping and not stopping.task.done():
            # Its last subscriber left less than one XREAD ago: it carries on from its cursor.
            del self._stopping[channel]
            stopping.stopping = False
            self._readers[channel] = reader = stopping
        if reader is None or reader.task.done():
            # Registered before anything is awaited: subscribers arriving together share it.
            reader = _Reader(asyncio.get_running_loop())
            reader.task = asyncio.create_task(
                self._read(channel, reader), name=f"dash-quart-broadcast:{channel}"
            )
            reader.task.add_done_callback(reader.stopped)
            reader.task.add_done_callback(lambda _: self._forget(channel, reader))
            self._readers[channel] = reader
        await asyncio.shield(reader.ready)

    def _parse(self, channel: str, entry_id: str, fields: dict[str, str]) -> Record | None:
        try:
            return self._record(entry_id, fields)
        except ValueError:
            logger.warning("Skipping a malformed entry %s of channel %r", entry_id, channel)
            return None

    async def unlisten(self, channel: str) -> None:
        reader = self._readers.pop(channel, None)
        if reader is not None and not reader.task.done():
            # Not cancelled mid-command: the reader stops after its current XREAD returns
            # (within READ_BLOCK_MS), and its connection goes back to the pool intact. A
            # subscriber arriving meanwhile takes it back (see ``listen``).
            reader.stopping = True
            self._stopping[channel] = reader

    def _forget(self, channel: str, reader: _Reader) -> None:
        """Drop a reader whose task has ended from wherever it is still registered."""
        for registry in (self._readers, self._stopping):
            if registry.get(channel) is reader:
                del registry[channel]

    async def _read(self, channel: str, reader: _Reader) -> None:
        """Find the channel's newest entry, say so through ``reader.ready``, then follow it."""
        key = self._key(channel)
        try:
            newest = await self._redis("xrevrange", key, count=1)
        except BaseException:
            if self._readers.get(channel) is reader:
                del self._readers[channel]
            raise
        if reader.stopping:  # closed while it started: its subscriber must not wait on it
            raise BackendUnavailableError("The broadcaster was closed.")
        cursor = newest[0][0] if newest else "0-0"
        reader.ready.set_result(None)
        backoff = 0.1
        while not reader.stopping:
            try:
                response = await self._redis("xread", {key: cursor}, block=READ_BLOCK_MS, count=500)
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
                    if reader.stopping:
                        return
                    cursor = entry_id
                    record = self._parse(channel, entry_id, fields)
                    if record is None:
                        continue
                    try:
                        self._deliver(channel, record)
                    except Exception:  # one bad entry must not stop the channel's reader
                        logger.exception("Delivering entry %s of %r failed", entry_id, channel)

    async def close(self) -> None:
        readers = [*self._readers.values(), *self._stopping.values()]
        self._readers.clear()
        self._stopping.clear()
        for reader in readers:
            reader.stopping = True
        tasks = [reader.task for reader in readers if not reader.task.done()]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=READ_BLOCK_MS / 1000 + 1)
            for task in late:
                task.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
