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
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from contextvars import copy_context
from typing import Any, Union, cast

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
    loop = asyncio.get_running_loop()
    pool = current_pool()
    context = copy_context()
    try:
        while True:
            item = await loop.run_in_executor(pool, context.run, _next_item, iterator)
            if item is _END:
                return
            yield cast(EventLike, item)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            await loop.run_in_executor(pool, context.run, close)


_END = object()


def _next_item(iterator: Iterator[EventLike]) -> object:
    return next(iterator, _END)


class EventStream(Response):
    """A streaming ``text/event-stream`` response.

    ``source`` is an async iterator (or, run in the thread pool, a sync one) of
    :class:`ServerSentEvent`, dicts of event fields, or strings of data. A ``: ping`` comment
    is sent every ``ping`` seconds so that proxies keep the connection open. When the client
    disconnects, or a send stalls for more than ``send_timeout`` seconds, ``source`` is
    closed (its ``finally`` blocks run). Quart's ``RESPONSE_TIMEOUT`` does not apply.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        source: AsyncIterable[EventLike] | Iterable[EventLike],
        *,
        ping: float | None = 15,
        send_timeout: float | None = 30,
        headers: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> None:
        if isinstance(source, AsyncIterable):
            events: AsyncIterable[EventLike] = source
        elif isinstance(source, Iterable) and not isinstance(source, (str, bytes)):
            events = _from_sync(source)
        else:
            raise TypeError("EventStream needs an iterator of events, not a single value.")
        base = {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
        super().__init__(
            _encode(events, ping, send_timeout), status=status, headers={**base, **(headers or {})}
        )
        self.timeout = None


async def _encode(
    events: AsyncIterable[EventLike], ping: float | None, send_timeout: float | None
) -> AsyncIterator[bytes]:
    """Encode events, interleave pings, and close ``events`` however the stream ends."""
    iterator = aiter(events)
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    pending: asyncio.Task[EventLike] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            done, _ = await asyncio.wait({pending}, timeout=ping)
            if done:
                finished, pending = pending, None
                try:
                    chunk = to_event(finished.result()).encode()
                except StopAsyncIteration:
                    return
            else:
                chunk = _PING
            watchdog = (
                loop.call_later(send_timeout, _cancel_stalled, task, send_timeout)
                if send_timeout is not None and task is not None
                else None
            )
            try:
                yield chunk
            finally:
                if watchdog is not None:
                    watchdog.cancel()
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
        closer = getattr(iterator, "aclose", None)
        if closer is not None:
            await closer()


def _cancel_stalled(task: asyncio.Task[Any], send_timeout: float) -> None:
    logger.info("Closing an event stream whose client did not read for %s s", send_timeout)
    task.cancel()
