"""``Broadcaster``: channels of server-sent events with replay on reconnect."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

from quart import Quart, Response, jsonify, request

from ..sse import _PING, EventStream, ServerSentEvent, _wake, join_chunks
from .backends import Backend, BackendUnavailableError, MemoryBackend, Record, RedisBackend

logger = logging.getLogger("dash_quart.broadcast")

_CHANNEL = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class TooManyClientsError(RuntimeError):
    """The broadcaster already serves ``max_clients`` subscribers in this process."""


class _Entry(NamedTuple):
    """A published record as subscribers take it: sort key, record, encoded event."""

    key: tuple[int, ...]
    record: Record
    chunk: bytes


class _Subscriber:
    """One subscription's bounded backlog, and the task waiting for it.

    ``offer`` is called by the backend for every published event; past ``capacity`` events
    the subscriber is marked ``overflowed`` and gets nothing more.
    """

    __slots__ = ("capacity", "entries", "last", "overflowed", "ping_due", "waiter")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.entries: deque[_Entry] = deque()
        self.last: tuple[int, ...] | None = None
        self.overflowed = False
        self.ping_due = False
        self.waiter: asyncio.Future[None] | None = None

    def offer(self, entry: _Entry) -> bool:
        """Queue ``entry``; ``False`` if that overflowed the backlog."""
        if self.overflowed:
            return True
        if len(self.entries) >= self.capacity:
            self.overflowed = True
            self.entries.clear()
            _wake(self.waiter)
            return False
        self.entries.append(entry)
        _wake(self.waiter)
        return True

    def want_ping(self) -> None:
        self.ping_due = True
        _wake(self.waiter)

    async def wait(self) -> None:
        """Return once there are entries, an overflow or a ping to send."""
        while not self.entries and not self.overflowed and not self.ping_due:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None

    def fresh(self) -> list[_Entry]:
        """Take the queued entries newer than the last one taken (replay may overlap)."""
        out: list[_Entry] = []
        entries = self.entries
        while entries:
            entry = entries.popleft()
            if self.last is not None and entry.key <= self.last:
                continue
            self.last = entry.key
            out.append(entry)
        return out


def check_channel(channel: str) -> str:
    if not isinstance(channel, str) or not _CHANNEL.match(channel):
        raise ValueError(
            f"Invalid channel name {channel!r}: use 1 to 128 letters, digits and _ . : -"
        )
    return channel


class Broadcaster:
    """Publish events to named channels; stream them to browsers with replay.

    With ``url=None`` events stay in this process. With ``url="redis://…"`` they go through
    one Redis Stream per channel, so that an event published by one worker reaches
    subscribers on every worker and host, and a client that reconnects to another worker
    replays what it missed. ``history`` events per channel are kept for replay. Each
    subscriber has a queue of ``client_queue`` events; a subscriber that falls that far
    behind is disconnected (its browser reconnects and replays) so that the others never
    wait for it::

        broadcaster = Broadcaster(server, url="redis://127.0.0.1:6379/0")

        @server.get("/prices")
        async def prices():
            return broadcaster.stream("prices")

        await broadcaster.publish("prices", {"AAPL": 187.2}, event="tick")

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        server: Quart | None = None,
        *,
        url: str | None = None,
        history: int = 1000,
        client_queue: int = 256,
        max_clients: int | None = None,
        key_prefix: str = "dash_quart:sse:",
    ) -> None:
        if history < 1 or client_queue < 1:
            raise ValueError("history and client_queue must be at least 1.")
        self.url = url
        self.history_size = history
        self.client_queue = client_queue
        self.max_clients = max_clients
        self._subscribers: dict[str, set[_Subscriber]] = {}
        self._backend: Backend
        if url is None:
            self._backend = MemoryBackend(self._deliver, history)
        elif url.startswith(("redis://", "rediss://", "unix://")):
            self._backend = RedisBackend(self._deliver, history, url, key_prefix)
        else:
            raise ValueError(f"Unsupported broadcaster URL {url!r}: use None or redis://…")
        if server is not None:
            self.init_app(server)

    def init_app(self, server: Quart) -> None:
        """Close the backend's connections when ``server`` stops serving."""
        server.extensions.setdefault("dash_quart.broadcasters", []).append(self)

        @server.after_serving
        async def _close_broadcaster() -> None:
            await self.close()

    @property
    def client_count(self) -> int:
        """Subscribers currently connected to this process."""
        return sum(len(subs) for subs in self._subscribers.values())

    async def publish(self, channel: str, data: Any, *, event: str | None = None) -> str:
        """Publish ``data`` (JSON-serialisable) to ``channel``; returns the event id."""
        check_channel(channel)
        # Encoded here first, so that what cannot be sent is refused before it is stored.
        _event(("0", event, data)).encode()
        return await self._backend.publish(channel, event, data)

    def _deliver(self, channel: str, record: Record) -> None:
        subscribers = self._subscribers.get(channel)
        if not subscribers:
            return
        entry = self._entry(channel, record)
        if entry is None:
            return
        for subscriber in tuple(subscribers):
            if not subscriber.offer(entry):
                logger.info("Disconnecting a slow subscriber of %r (queue full)", channel)

    def _entry(self, channel: str, record: Record) -> _Entry | None:
        """The record as subscribers take it, or None (with a warning) if it cannot be sent.

        ``publish`` refuses such records; they can only come from another writer of the
        Redis stream.
        """
        try:
            return _Entry(self._backend.parse_id(record[0]), record, _event(record).encode())
        except (TypeError, ValueError) as error:
            logger.warning("Skipping event %s of channel %r: %s", record[0], channel, error)
            return None

    def parse_event_id(self, event_id: str) -> tuple[int, ...]:
        return self._backend.parse_id(event_id)

    async def subscribe(
        self, channel: str, last_event_id: str | None = None, *, announce: bool = False
    ) -> AsyncIterator[ServerSentEvent]:
        """Yield ``channel``'s events: first those after ``last_event_id``, then live ones.

        Events are never repeated and, within the kept history, never skipped. With
        ``announce``, a ``: subscribed`` comment comes first, once no event published from
        then on can be missed. A ``last_event_id`` newer than any event issued (from before
        a restart of the in-memory backend) replays nothing. If the backend is unavailable,
        a warning is logged and the iteration ends, so that the browser reconnects later.
        """
        subscriber, replay = await self._join(channel, last_event_id)
        try:
            if subscriber is None:
                return
            if announce:
                yield ServerSentEvent(comment="subscribed")
            for entry in replay:
                yield _event(entry.record)
            while True:
                await subscriber.wait()
                if subscriber.overflowed:
                    return
                for entry in subscriber.fresh():
                    yield _event(entry.record)
        finally:
            await self._leave(channel, subscriber)

    async def _join(
        self, channel: str, last_event_id: str | None
    ) -> tuple[_Subscriber | None, list[_Entry]]:
        """Register a subscriber, start listening, and fetch what it missed.

        The subscriber is registered before anything is awaited, so that events published
        meanwhile queue up; ``fresh()`` drops those that the replay already holds.
        """
        check_channel(channel)
        last = None if last_event_id is None else self._backend.parse_id(last_event_id)
        if self.max_clients is not None and self.client_count >= self.max_clients:
            raise TooManyClientsError(f"{self.max_clients} clients are connected already.")
        subscriber = _Subscriber(self.client_queue)
        self._subscribers.setdefault(channel, set()).add(subscriber)
        try:
            await self._backend.listen(channel)
            replay: list[_Entry] = []
            if last is not None and last_event_id is not None:
                newest = await self._backend.latest(channel)
                if newest is not None and last <= newest:
                    subscriber.last = last
                    records = await self._backend.history(channel, last_event_id)
                    found = (self._entry(channel, record) for record in records)
                    replay = [entry for entry in found if entry is not None]
            if replay:
                subscriber.last = replay[-1].key
        except BackendUnavailableError as error:
            logger.warning("Cannot subscribe to %r: %s", channel, error)
            await self._leave(channel, subscriber)
            return None, []
        except BaseException:
            await self._leave(channel, subscriber)
            raise
        return subscriber, replay

    async def _leave(self, channel: str, subscriber: _Subscriber | None) -> None:
        subscribers = self._subscribers.get(channel)
        if subscriber is None or subscribers is None or subscriber not in subscribers:
            return
        subscribers.discard(subscriber)
        if not subscribers:
            self._subscribers.pop(channel, None)
            await self._backend.unlisten(channel)

    def stream(
        self,
        channel: str,
        *,
        last_event_id: str | None = None,
        ping: float | None = 15,
        send_timeout: float | None = 30,
    ) -> Response:
        """An :class:`~dash_quart.sse.EventStream` of ``channel`` for the current request.

        It replays from the request's ``Last-Event-ID`` header (sent by browsers when they
        reconnect) or ``lastEventId`` query argument. An invalid channel or event id gets a
        400; past ``max_clients``, a 503 with ``Retry-After``.
        """
        if last_event_id is None:
            last_event_id = request.headers.get("Last-Event-ID") or request.args.get(
                "lastEventId"
            )
        try:
            check_channel(channel)
            if last_event_id is not None:
                self._backend.parse_id(last_event_id)
        except ValueError as error:
            return _json_error(400, str(error))
        if self.max_clients is not None and self.client_count >= self.max_clients:
            response = _json_error(503, "Too many event-stream clients; retry shortly.")
            response.headers["Retry-After"] = "5"
            return response
        return EventStream(
            _SubscriptionFeed(self, channel, last_event_id), ping=ping, send_timeout=send_timeout
        )

    async def close(self) -> None:
        """Stop the backend's readers and close its connections."""
        await self._backend.close()


_SUBSCRIBED = ServerSentEvent(comment="subscribed").encode()


class _SubscriptionFeed:
    """An ``EventStream`` feed straight from a subscriber's backlog.

    Each event was encoded once when it was published; events waiting together go out
    in one write; pings are asked of the subscriber, so a stream has no task of its own.
    """

    def __init__(
        self, broadcaster: Broadcaster, channel: str, last_event_id: str | None
    ) -> None:
        self.broadcaster = broadcaster
        self.channel = channel
        self.last_event_id = last_event_id
        self.subscriber: _Subscriber | None = None
        self.chunks: deque[bytes] = deque()
        self.joined = False

    async def next_chunk(self) -> bytes | None:
        if not self.joined:
            self.joined = True
            subscriber, replay = await self.broadcaster._join(self.channel, self.last_event_id)
            if subscriber is None:
                return None
            self.subscriber = subscriber
            self.chunks.append(_SUBSCRIBED)
            self.chunks.extend(entry.chunk for entry in replay)
        subscriber = self.subscriber
        if subscriber is None:
            return None
        while not self.chunks:
            await subscriber.wait()
            if subscriber.overflowed:
                return None
            self.chunks.extend(entry.chunk for entry in subscriber.fresh())
            if subscriber.ping_due:
                subscriber.ping_due = False
                if not self.chunks:
                    self.chunks.append(_PING)
        return join_chunks(self.chunks)

    def want_ping(self) -> None:
        if self.subscriber is not None:
            self.subscriber.want_ping()

    async def aclose(self) -> None:
        subscriber, self.subscriber = self.subscriber, None
        await self.broadcaster._leave(self.channel, subscriber)


def _event(record: Record) -> ServerSentEvent:
    event_id, event, data = record
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return ServerSentEvent(text, event=event, id=event_id)


def _json_error(status: int, message: str) -> Response:
    response = jsonify({"error": {"status": status, "message": message}})
    response.status_code = status
    return response
