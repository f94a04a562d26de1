"""Server-sent events: ``ServerSentEvent`` and the ``EventStream`` response.

::

    from dash_quart.sse import EventStream, ServerSentEvent

    @server.get("/clock")
    async def clock():
        async def ticks():
            while True:
                yield ServerSentEvent({"now": time.time()}, event="tick")
                await asyncio.sleep(1)
        return EventStream(ticks())
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from contextvars import copy_context
from typing import Any, Protocol, Union, cast

from quart import Response

from .concurrency import current_pool

logger = logging.getLogger("dash_quart.sse")

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

EventLike = Union["ServerSentEvent", Mapping[str, Any], str, bytes]


def _single_line(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"The SSE {name} must be a str, not {type(value).__name__}.")
    if "\r" in value or "\n" in value:
        raise ValueError(f"The SSE {name} must not contain a line break: {value!r}.")
    if "\0" in value and name == "id":
        raise ValueError("The SSE id must not contain NUL: browsers would ignore it.")
    return value


class ServerSentEvent:
    """One event of a ``text/event-stream``.

    ``data`` may be a str (several lines become several ``data:`` lines, whatever the line
    endings), or any other JSON value (JSON-encoded: ``True`` is sent as ``true``); ``None``
    sends no data line. ``event`` and
    ``id`` must be single-line strings; ``retry`` (milliseconds) must be an int.

    .. versionadded:: 0.1
    """

    __slots__ = ("comment", "data", "event", "id", "retry")

    def __init__(
        self,
        data: Any = None,
        *,
        event: str | None = None,
        id: str | None = None,  # noqa: A002 - the SSE field's name
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        if retry is not None and (isinstance(retry, bool) or not isinstance(retry, int)):
            raise TypeError(f"The SSE retry must be an int (milliseconds), not {retry!r}.")
        if retry is not None and retry < 0:
            raise ValueError(f"The SSE retry must not be negative, got {retry}.")
        self.data = data
        self.event = _single_line("event", event)
        self.id = _single_line("id", id)
        self.retry = retry
        self.comment = comment

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self.__slots__
            if getattr(self, name) is not None
        )
        return f"ServerSentEvent({fields})"

    def encode(self) -> bytes:
        """The event as UTF-8 bytes, ending with the blank line that dispatches it."""
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(f": {line}" for line in _LINE_BREAK.split(self.comment))
        if self.event is not None:
            lines.append(f"event: {self.event}")
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        if self.data is not None:
            text = self.data
            if isinstance(text, bytes):
                text = text.decode("utf-8")
            elif not isinstance(text, str):
                text = json.dumps(text, separators=(",", ":"))
            lines.extend(f"data: {line}" for line in _LINE_BREAK.split(text))
        return ("\n".join(lines) + "\n\n").encode("utf-8")


def to_event(item: EventLike) -> ServerSentEvent:
    """A ``ServerSentEvent`` from an event, a dict of its fields, or a string of data."""
    if isinstance(item, ServerSentEvent):
        return item
    if isinstance(item, Mapping):
        return ServerSentEvent(**item)
    if isinstance(item, (str, bytes)):
        return ServerSentEvent(item)
    raise TypeError(
        f"An event stream yields ServerSentEvent, dict or str items, not {type(item).__name__}."
    )


_PING = ServerSentEvent(comment="ping").encode()


async def _from_sync(source: Iterable[EventLike]) -> AsyncIterator[EventLike]:
    """Iterate a blocking iterator in the thread pool, one item per hop."""
    iterator: Iterator[EventLike] = iter(source)
    pool = current_pool()
    context = copy_context()
    try:
        while True:
            item = await pool.call(context.run, _next_item, iterator)
            if item is _END:
                return
            yield cast(EventLike, item)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            await pool.call(context.run, close)


_END = object()


def _next_item(iterator: Iterator[EventLike]) -> object:
    return next(iterator, _END)


class ChunkFeed(Protocol):
    """What :func:`_encode` reads: encoded chunks, and a way to ask for a keepalive.

    ``next_chunk()`` returns the next bytes to send (several events may be joined), or
    ``None`` at the end. ``want_ping()`` asks it to return a ping if nothing else is
    waiting. ``aclose()`` releases whatever the feed holds.
    """

    async def next_chunk(self) -> bytes | None: ...

    def want_ping(self) -> None: ...

    async def aclose(self) -> None: ...


#: How much ``next_chunk`` joins into one send when events are waiting.
COALESCE_BYTES = 64 * 1024


def join_chunks(chunks: deque[bytes]) -> bytes:
    """Pop the first chunk, joined with those after it up to ``COALESCE_BYTES``."""
    first = chunks.popleft()
    if not chunks or len(first) >= COALESCE_BYTES:
        return first
    parts = [first]
    size = len(first)
    while chunks and size + len(chunks[0]) <= COALESCE_BYTES:
        size += len(chunks[0])
        parts.append(chunks.popleft())
    return b"".join(parts)


class _Pump:
    """A feed that runs an async iterator of events in one task of its own.

    The task encodes each item as it comes and stays at most ``ahead`` chunks ahead of the
    client, so a source is never read much faster than its client takes the events.
    """

    __slots__ = ("ahead", "chunks", "error", "finished", "iterator", "room", "task", "waiter")

    def __init__(self, events: AsyncIterable[EventLike], ahead: int = 8) -> None:
        self.iterator: AsyncIterator[EventLike] = aiter(events)
        self.chunks: deque[bytes] = deque()
        self.ahead = ahead
        self.waiter: asyncio.Future[None] | None = None
        self.room: asyncio.Future[None] | None = None
        self.task: asyncio.Task[None] | None = None
        self.finished = False
        self.error: BaseException | None = None

    async def next_chunk(self) -> bytes | None:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())
        while not self.chunks:
            if self.finished:
                if self.error is not None:
                    raise self.error
                return None
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        chunk = join_chunks(self.chunks)
        _wake(self.room)
        return chunk

    def want_ping(self) -> None:
        if not self.chunks:
            self.chunks.append(_PING)
            _wake(self.waiter)

    async def _run(self) -> None:
        try:
            async for item in self.iterator:
                self.chunks.append(to_event(item).encode())
                _wake(self.waiter)
                while len(self.chunks) >= self.ahead:
                    self.room = asyncio.get_running_loop().create_future()
                    try:
                        await self.room
                    finally:
                        self.room = None
        except Exception as error:  # handed to the response, which logs it
            self.error = error
        finally:
            self.finished = True
            _wake(self.waiter)
            # Closed in the task that iterated it, so its finally blocks run in its context.
            await self._close_source()

    async def _close_source(self) -> None:
        closer = getattr(self.iterator, "aclose", None)
        if closer is not None:
            await closer()

    async def aclose(self) -> None:
        if self.task is None:
            await self._close_source()
        elif not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class EventStream(Response):
    """A streaming ``text/event-stream`` response.

    ``source`` is an async iterator (or, run in the thread pool, a sync one) of
    :class:`ServerSentEvent`, dicts of event fields, or strings of data. A ``: ping`` comment
    is sent every ``ping`` seconds so that proxies keep the connection open. When the client
    disconnects, or a send stalls for more than ``send_timeout`` seconds, ``source`` is
    closed (its ``finally`` blocks run). Quart's ``RESPONSE_TIMEOUT`` does not apply.
    Events that are ready together go out in one write.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        source: AsyncIterable[EventLike] | Iterable[EventLike] | ChunkFeed,
        *,
        ping: float | None = 15,
        send_timeout: float | None = 30,
        headers: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> None:
        for name, value in (("ping", ping), ("send_timeout", send_timeout)):
            if value is not None and not value > 0:
                raise ValueError(f"EventStream {name} must be None or > 0 seconds, not {value!r}.")
        feed = _feed(source)
        base = {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
        super().__init__(
            _encode(feed, ping, send_timeout),
            status=status,
            headers={**base, **(headers or {})},
        )
        self.timeout = None


def _feed(source: AsyncIterable[EventLike] | Iterable[EventLike] | ChunkFeed) -> ChunkFeed:
    if isinstance(source, AsyncIterable):
        return _Pump(source)
    if isinstance(source, (str, bytes)) or not isinstance(source, Iterable):
        if not hasattr(source, "next_chunk"):
            raise TypeError("EventStream needs an iterator of events, not a single value.")
        return cast(ChunkFeed, source)
    return _Pump(_from_sync(source))


async def _encode(
    source: AsyncIterable[EventLike] | Iterable[EventLike] | ChunkFeed,
    ping: float | None,
    send_timeout: float | None,
) -> AsyncIterator[bytes]:
    """Send the feed's chunks, with pings between them, and close it however the stream ends."""
    feed = _feed(source)
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    clock = _Clock(loop, task, feed, ping, send_timeout)
    try:
        while True:
            chunk = await feed.next_chunk()
            if chunk is None:
                return
            clock.sending(loop.time())
            yield chunk
            clock.sent(loop.time())
    finally:
        clock.stop()
        await feed.aclose()


#: A timer may fire this much before its time; it still counts as due.
_EARLY = 0.001


class _Clock:
    """One timer per stream for its pings and its send timeout, re-armed only when it fires.

    The stream notes when a send starts (``since``) and when the last one ended (``last``);
    the timer compares those with the time when it fires, instead of a timer per event.
    """

    __slots__ = ("feed", "handle", "last", "loop", "ping", "send_timeout", "since", "task")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        task: asyncio.Task[Any] | None,
        feed: ChunkFeed,
        ping: float | None,
        send_timeout: float | None,
    ) -> None:
        self.loop = loop
        self.task = task
        self.feed = feed
        self.ping = ping
        self.send_timeout = send_timeout if task is not None else None
        self.last = loop.time()
        self.since: float | None = None
        self.handle: asyncio.TimerHandle | None = None
        self.rearm()

    def due(self) -> float | None:
        """When the timer must next look: the send's deadline, or the next ping."""
        if self.since is not None:
            return None if self.send_timeout is None else self.since + self.send_timeout
        return None if self.ping is None else self.last + self.ping

    def rearm(self) -> None:
        """Arm the timer for ``due()``, unless the pending one already looks early enough.

        With the defaults (ping 15 s, send timeout 30 s) the pending timer is always early
        enough, so a stream does not touch the loop's timers for each event.
        """
        due = self.due()
        if due is None or (self.handle is not None and self.handle.when() <= due):
            return
        if self.handle is not None:
            self.handle.cancel()
        self.handle = self.loop.call_at(due, self.fire)

    def sending(self, now: float) -> None:
        self.since = now
        self.rearm()

    def sent(self, now: float) -> None:
        self.last = now
        self.since = None
        self.rearm()

    def fire(self) -> None:
        self.handle = None
        now = self.loop.time()
        if self.since is not None:
            if self.send_timeout is not None and now - self.since >= self.send_timeout - _EARLY:
                logger.info(
                    "Closing an event stream whose client did not read for %s s",
                    self.send_timeout,
                )
                assert self.task is not None
                self.task.cancel()
                return
        elif self.ping is not None and now - self.last >= self.ping - _EARLY:
            self.last = now
            self.feed.want_ping()
        self.rearm()

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
