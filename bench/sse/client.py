"""The load clients: raw asyncio protocols reading ``text/event-stream`` responses.

A client process opens its connections in batches, checks each response's status and
content type, reports how many it holds, then holds (and, for fan-out, reads) them until
the time its parent sends, closes them and sends back what it counted. Parsing is minimal:
the client finds ``"t":`` in each event's data and subtracts that publish time from the
time the bytes arrived.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, cast

MARK = b'"t":'
HEAD_LIMIT = 65536


@dataclass(frozen=True)
class Plan:
    """What one client process does."""

    port: int
    path: str
    connections: int
    parse: bool
    batch: int = 500
    connect_timeout: float = 15.0
    connect_deadline: float = 120.0
    max_hold: float = 300.0


@dataclass
class Tally:
    """What the connections of one process received."""

    parse: bool
    latencies: array[float] = field(default_factory=lambda: array("d"))
    dropped: int = 0
    first: float = 0.0
    last: float = 0.0


def check_head(head: bytes) -> str:
    """``""`` for a ``200`` ``text/event-stream`` response head, else what is wrong."""
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ", 2)
    if len(status) < 2 or status[1] != b"200":
        return f"status {lines[0][:60].decode(errors='replace')}"
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-type":
            return "" if b"text/event-stream" in value.lower() else "not text/event-stream"
    return "no content-type"


class EventReader(asyncio.Protocol):
    """One stream: sends the GET, checks the head, then scans the body for publish times."""

    def __init__(self, request: bytes, tally: Tally) -> None:
        self.request = request
        self.tally = tally
        self.ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.rest = b""
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if not self.ready.done():
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.head) > HEAD_LIMIT:
                    self.ready.set_result("response head too long")
                return
            data = self.head[end + 4 :]
            self.ready.set_result(check_head(self.head[:end]))
            self.head = b""
        if self.tally.parse and data:
            self.scan(data)

    def scan(self, data: bytes) -> None:
        now = time.time()
        buf = self.rest + data if self.rest else data
        tally = self.tally
        found = False
        pos = 0
        while True:
            start = buf.find(MARK, pos)
            if start < 0:
                self.rest = buf[-len(MARK) + 1 :]
                break
            end = buf.find(b",", start)
            if end < 0:
                self.rest = buf[start:]
                break
            tally.latencies.append(now - float(buf[start + len(MARK) : end]))
            found = True
            pos = end
        if found:
            tally.first = tally.first or now
            tally.last = now

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_result(f"closed before the head: {exc or 'EOF'}")
        elif not self.closing:
            self.tally.dropped += 1

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()


async def open_stream(plan: Plan, tally: Tally, timeout: float) -> EventReader | str:
    """A reader whose response head was right, or the reason it is not one."""
    loop = asyncio.get_running_loop()
    request = (
        f"GET {plan.path} HTTP/1.1\r\nHost: 127.0.0.1:{plan.port}\r\n"
        "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    ).encode()
    reader = EventReader(request, tally)
    try:
        await asyncio.wait_for(
            loop.create_connection(lambda: reader, "127.0.0.1", plan.port), timeout
        )
        problem = await asyncio.wait_for(asyncio.shield(reader.ready), timeout)
    except asyncio.TimeoutError:
        problem = "timeout"
    except OSError as error:
        problem = f"{type(error).__name__} errno {error.errno}"
    if problem:
        reader.close()
        return problem
    return reader


async def open_all(plan: Plan, tally: Tally) -> tuple[list[EventReader], Counter[str], float]:
    """Open ``plan.connections`` streams, ``plan.batch`` at a time, within the deadline."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    end = started + plan.connect_deadline
    readers: list[EventReader] = []
    errors: Counter[str] = Counter()
    for first in range(0, plan.connections, plan.batch):
        remaining = end - loop.time()
        if remaining <= 0:
            errors["connect deadline passed"] += plan.connections - first
            break
        size = min(plan.batch, plan.connections - first)
        timeout = min(plan.connect_timeout, remaining)
        for outcome in await asyncio.gather(
            *(open_stream(plan, tally, timeout) for _ in range(size))
        ):
            if isinstance(outcome, str):
                errors[outcome] += 1
            else:
                readers.append(outcome)
    return readers, errors, loop.time() - started


async def _main(pipe: Connection, plan: Plan) -> None:
    tally = Tally(parse=plan.parse)
    readers, errors, took = await open_all(plan, tally)
    pipe.send({"connected": len(readers), "errors": dict(errors), "connect_s": round(took, 3)})
    stop_at = time.time()
    if await asyncio.to_thread(pipe.poll, plan.max_hold):
        stop_at = float(pipe.recv())
    cpu, wall = time.process_time(), time.time()
    delay = min(stop_at - wall, plan.max_hold)
    if delay > 0:
        await asyncio.sleep(delay)
    cpu, wall = time.process_time() - cpu, time.time() - wall
    for reader in readers:
        reader.close()
    await asyncio.sleep(0.2)
    result: dict[str, Any] = {
        "connected": len(readers),
        "dropped": tally.dropped,
        "events": len(tally.latencies),
        "first": tally.first,
        "last": tally.last,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "latencies": tally.latencies.tobytes(),
    }
    pipe.send(result)


def child(pipe: Connection, plan: Plan) -> None:
    """Entry point of a client process."""
    try:
        asyncio.run(_main(pipe, plan))
    finally:
        pipe.close()
