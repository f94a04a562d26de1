from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from dash_quart.testing import ReceivedEvent, live_server, read_events
from tests.sse import stream_app

pytestmark = pytest.mark.e2e


@pytest.fixture(name="url", scope="module")
def _url() -> Iterator[str]:
    with live_server(stream_app.server) as url:
        yield url


@pytest.fixture(name="client")
async def _client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=10) as client:
        yield client


async def _collect(events: AsyncIterator[ReceivedEvent], n: int) -> list[ReceivedEvent]:
    out: list[ReceivedEvent] = []
    async with asyncio.timeout(10):
        async for event in events:
            if event.data is not None:
                out.append(event)
            if len(out) == n:
                return out
    return out


async def _wait_finalized(tag: str, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while tag not in stream_app.finalized:
        assert time.monotonic() < deadline, f"the source of {tag!r} was never closed"
        await asyncio.sleep(0.02)
    return stream_app.finalized[tag]


async def test_headers_and_events(client: httpx.AsyncClient) -> None:
    async with client.stream("GET", "/ticks/headers") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-accel-buffering"] == "no"
        events = await _collect(read_events(response.aiter_lines()), 3)
    assert [(e.event, e.json(), e.id) for e in events] == [
        ("tick", {"n": n}, str(n)) for n in range(3)
    ]


async def test_keepalive_ping(client: httpx.AsyncClient) -> None:
    async with client.stream("GET", "/idle", params={"ping": "0.2"}) as response:
        events = read_events(response.aiter_lines())
        first = await anext(events)
        assert first.data == "hello"
        async with asyncio.timeout(3):
            pings = [await anext(events) for _ in range(2)]
    assert all(p.comments == ["ping"] and p.data is None for p in pings)


async def test_client_disconnect_closes_the_source_promptly(client: httpx.AsyncClient) -> None:
    async with client.stream("GET", "/ticks/disconnect", params={"interval": "0.5"}) as response:
        await _collect(read_events(response.aiter_lines()), 1)
        closed_at = time.monotonic()
    finalized = await _wait_finalized("disconnect", timeout=5)
    assert finalized - closed_at < 1.0


def test_stalled_client_is_dropped_after_send_timeout(url: str) -> None:
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"GET /flood/stalled?timeout=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        # The socket buffers fill at once (256 KiB events); then 1 s of stall closes it,
        # long before the 15 s ping timer would look.
        deadline = time.monotonic() + 4
        while "stalled" not in stream_app.finalized:
            assert time.monotonic() < deadline, "a stalled stream was not closed after ~1 s"
            time.sleep(0.05)


async def test_sync_source_runs_in_the_pool(client: httpx.AsyncClient) -> None:
    async with client.stream("GET", "/sync") as response:
        events = await _collect(read_events(response.aiter_lines()), 3)
    assert [(e.data, e.id) for e in events] == [(f"line {n}", str(n)) for n in range(3)]


async def test_quart_response_timeout_does_not_cut_streams(url: str) -> None:
    stream_app.server.config["RESPONSE_TIMEOUT"] = 0.3
    try:
        async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=10) as client:
            async with client.stream("GET", "/ticks/long", params={"interval": "0.1"}) as r:
                events = await _collect(read_events(r.aiter_lines()), 10)
        assert [e.json()["n"] for e in events] == list(range(10))
    finally:
        stream_app.server.config["RESPONSE_TIMEOUT"] = 60


async def test_replay_with_last_event_id_has_no_loss_or_duplicates(
    client: httpx.AsyncClient,
) -> None:
    ids = [
        (await client.post("/publish/replay", json={"n": n})).json()["id"] for n in range(10)
    ]
    received: list[int] = []
    last_id = ids[3]
    for round_ in range(3):
        headers = {"Last-Event-ID": last_id}
        async with client.stream("GET", "/channel/replay", headers=headers) as response:
            events = read_events(response.aiter_lines())
            if round_ == 0:
                got = await _collect(events, 6)
            else:
                await client.post("/publish/replay", json={"n": 9 + round_})
                got = await _collect(events, 1)
        received.extend(e.json()["n"] for e in got)
        last_id = got[-1].id or ""
        await client.post("/publish/replay", json={"n": 100 + round_})
        received_gap = 100 + round_
        async with client.stream("GET", "/channel/replay", headers={"Last-Event-ID": last_id}) as r:
            [missed] = await _collect(read_events(r.aiter_lines()), 1)
        assert missed.json()["n"] == received_gap
        received.append(received_gap)
        last_id = missed.id or ""
    assert received == [4, 5, 6, 7, 8, 9, 100, 10, 101, 11, 102]


async def test_invalid_channel_is_400_and_bad_id_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/channel/bad%20name")
    assert response.status_code == 400
    assert "Invalid channel" in response.json()["error"]["message"]
    response = await client.get("/channel/ok", headers={"Last-Event-ID": "not-an-id"})
    assert response.status_code == 400


async def test_max_clients_is_503_with_retry_after(client: httpx.AsyncClient) -> None:
    stream_app.broadcaster.max_clients = 1
    try:
        async with client.stream("GET", "/channel/limited") as first:
            assert first.status_code == 200
            deadline = time.monotonic() + 5
            while stream_app.broadcaster.client_count < 1:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            second = await client.get("/channel/limited")
            assert second.status_code == 503
            assert second.headers["retry-after"] == "5"
    finally:
        stream_app.broadcaster.max_clients = None


async def test_closing_the_body_mid_stream_closes_the_source() -> None:
    from dash_quart.sse import _encode

    closed: list[bool] = []

    async def source() -> AsyncIterator[str]:
        try:
            while True:
                yield "tick"
        finally:
            closed.append(True)

    body = _encode(source(), ping=None, send_timeout=None)
    first = await anext(body)  # events ready together are joined into one send
    assert first and first == b"data: tick\n\n" * first.count(b"\n\n")
    await body.aclose()  # what the server does when the client goes away mid-send
    assert closed == [True]


async def test_a_fast_source_is_read_at_most_eight_events_ahead() -> None:
    from dash_quart.sse import _encode, _Pump

    produced: list[int] = []

    async def source() -> AsyncIterator[str]:
        n = 0
        while True:
            produced.append(n)
            yield str(n)
            n += 1

    pump = _Pump(source())
    body = _encode(pump, ping=None, send_timeout=None)
    first = await anext(body)
    taken = first.count(b"\n\n")
    deadline = time.monotonic() + 5
    while pump.room is None or pump.room.done():  # it waits once it is far enough ahead
        assert time.monotonic() < deadline, "the pump never stopped reading the source"
        await asyncio.sleep(0.01)
    assert len(produced) == taken + pump.ahead
    await body.aclose()  # type: ignore[attr-defined]


async def test_the_source_is_closed_in_the_task_that_iterated_it() -> None:
    """Context variables set in a source can be reset in its finally, as in one task."""
    from contextvars import ContextVar

    from dash_quart.sse import _encode, _Pump

    var: ContextVar[int] = ContextVar("var")
    closed: list[int] = []

    async def source() -> AsyncIterator[str]:
        token = var.set(1)
        try:
            while True:
                yield "x"
        finally:
            closed.append(var.get())
            var.reset(token)  # ValueError if run in another task's context

    pump = _Pump(source())
    body = _encode(pump, ping=None, send_timeout=None)
    await anext(body)
    await body.aclose()  # type: ignore[attr-defined]
    assert closed == [1]
    assert pump.task is not None and pump.task.cancelled()  # not ended by a ValueError


@pytest.mark.parametrize("ping", [0, -1.0])
def test_ping_and_send_timeout_must_be_positive(ping: float) -> None:
    from dash_quart.sse import EventStream

    with pytest.raises(ValueError, match="ping must be None or > 0"):
        EventStream(iter(["x"]), ping=ping)
    with pytest.raises(ValueError, match="send_timeout must be None or > 0"):
        EventStream(iter(["x"]), send_timeout=ping)
