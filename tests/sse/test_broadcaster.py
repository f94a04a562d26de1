from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from dash_quart.broadcast import Broadcaster, TooManyClientsError
from dash_quart.broadcast.backends import READ_BLOCK_MS
from dash_quart.sse import ServerSentEvent


@pytest.fixture(params=["memory", "redis"], name="broadcaster")
async def _broadcaster(request: pytest.FixtureRequest) -> AsyncIterator[Broadcaster]:
    if request.param == "memory":
        broadcaster = Broadcaster(history=50, client_queue=8)
    else:
        url = request.getfixturevalue("redis_url")
        client = aioredis.from_url(url)
        await client.flushdb()
        await client.aclose()
        broadcaster = Broadcaster(url=url, history=50, client_queue=8)
    yield broadcaster
    await broadcaster.close()


async def _take(events: AsyncIterator[ServerSentEvent], n: int) -> list[ServerSentEvent]:
    out = []
    async with asyncio.timeout(5):
        while len(out) < n:
            out.append(await anext(events))
    return out


def _payloads(events: list[ServerSentEvent]) -> list[Any]:
    return [json.loads(e.data) for e in events]


async def _subscribed(
    broadcaster: Broadcaster, channel: str, **kwargs: Any
) -> AsyncIterator[ServerSentEvent]:
    """Subscribe, and return once the subscription is registered and listening."""
    before = broadcaster.client_count
    events = broadcaster.subscribe(channel, **kwargs)
    first = asyncio.ensure_future(anext(events))
    async with asyncio.timeout(5):
        while broadcaster.client_count == before or not _listening(broadcaster, channel):
            await asyncio.sleep(0.01)
    return _prepend(first, events)


def _listening(broadcaster: Broadcaster, channel: str) -> bool:
    readers = getattr(broadcaster._backend, "_readers", None)
    return readers is None or (channel in readers and readers[channel].ready.done())


async def _prepend(
    first: asyncio.Future[ServerSentEvent], rest: AsyncIterator[ServerSentEvent]
) -> AsyncIterator[ServerSentEvent]:
    try:
        yield await first
        async for event in rest:
            yield event
    finally:
        first.cancel()
        await rest.aclose()  # type: ignore[attr-defined]


async def test_publish_reaches_every_subscriber(broadcaster: Broadcaster) -> None:
    one = await _subscribed(broadcaster, "prices")
    two = await _subscribed(broadcaster, "prices")
    other = await _subscribed(broadcaster, "news")
    ids = [await broadcaster.publish("prices", {"n": n}, event="tick") for n in range(3)]
    got_one, got_two = await _take(one, 3), await _take(two, 3)
    assert _payloads(got_one) == _payloads(got_two) == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [e.id for e in got_one] == ids
    assert {e.event for e in got_one} == {"tick"}
    await broadcaster.publish("news", "headline")
    assert [e.data for e in await _take(other, 1)] == ["headline"]


async def test_replay_after_last_event_id_then_live(broadcaster: Broadcaster) -> None:
    ids = [await broadcaster.publish("feed", n) for n in range(5)]
    events = await _subscribed(broadcaster, "feed", last_event_id=ids[1])
    replayed = await _take(events, 3)
    assert _payloads(replayed) == [2, 3, 4]
    live_id = await broadcaster.publish("feed", 5)
    [live] = await _take(events, 1)
    assert (json.loads(live.data), live.id) == (5, live_id)


async def test_no_duplicates_when_publishing_during_replay(broadcaster: Broadcaster) -> None:
    ids = [await broadcaster.publish("race", n) for n in range(3)]
    events = broadcaster.subscribe("race", last_event_id=ids[0])
    publishing = asyncio.gather(*(broadcaster.publish("race", n) for n in range(3, 9)))
    received = await _take(events, 8)
    await publishing
    # Concurrent publishes may reach Redis in any order; each arrives once, in id order.
    assert sorted(_payloads(received)) == list(range(1, 9))
    keys = [broadcaster.parse_event_id(e.id or "") for e in received]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


async def test_slow_subscriber_is_disconnected_and_others_continue(
    broadcaster: Broadcaster,
) -> None:
    slow = await _subscribed(broadcaster, "fast")
    quick = await _subscribed(broadcaster, "fast")
    first_id = await broadcaster.publish("fast", 0)
    assert _payloads(await _take(slow, 1)) == [0]
    received: list[Any] = _payloads(await _take(quick, 1))
    for n in range(1, 30):
        await broadcaster.publish("fast", n)
        received.extend(_payloads(await _take(quick, 1)))
    assert received == list(range(30))
    with pytest.raises(StopAsyncIteration):
        async with asyncio.timeout(5):
            while True:
                await anext(slow)
    replay = await _subscribed(broadcaster, "fast", last_event_id=first_id)
    assert _payloads(await _take(replay, 29)) == list(range(1, 30))


async def test_invalid_channel_and_event_id(broadcaster: Broadcaster) -> None:
    with pytest.raises(ValueError, match="Invalid channel"):
        await broadcaster.publish("bad channel!", 1)
    with pytest.raises(ValueError, match="Invalid channel"):
        await anext(broadcaster.subscribe("../etc"))
    with pytest.raises(ValueError, match="Not an event id"):
        await anext(broadcaster.subscribe("ok", last_event_id="nope"))


async def test_max_clients() -> None:
    broadcaster = Broadcaster(max_clients=1)
    first = await _subscribed(broadcaster, "c")
    with pytest.raises(TooManyClientsError):
        await anext(broadcaster.subscribe("c"))
    await broadcaster.publish("c", 1)
    assert _payloads(await _take(first, 1)) == [1]
    await first.aclose()  # type: ignore[attr-defined]
    assert broadcaster.client_count == 0


def test_unsupported_url() -> None:
    with pytest.raises(ValueError, match="redis://"):
        Broadcaster(url="kafka://x")


async def test_last_event_id_from_the_future_replays_nothing_and_misses_nothing() -> None:
    broadcaster = Broadcaster()
    await broadcaster.publish("restart", 0)
    events = await _subscribed(broadcaster, "restart", last_event_id="100")
    await broadcaster.publish("restart", 1)
    [event] = await _take(events, 1)
    assert json.loads(event.data) == 1


async def test_data_that_is_not_json_is_refused_at_publish(broadcaster: Broadcaster) -> None:
    import datetime

    with pytest.raises(TypeError):
        await broadcaster.publish("bad-data", {"when": datetime.datetime.now()})


async def test_unavailable_redis_ends_the_subscription_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from dash_quart.testing import free_port

    broadcaster = Broadcaster(url=f"redis://127.0.0.1:{free_port()}/0")
    with caplog.at_level("WARNING", logger="dash_quart.broadcast"):
        received = [event async for event in broadcaster.subscribe("down")]
    assert received == []
    assert "Cannot subscribe to 'down'" in caplog.text
    await broadcaster.close()


@pytest.mark.parametrize("count", [30, 300])
async def test_concurrent_subscribers_each_get_one_copy(
    broadcaster: Broadcaster, count: int
) -> None:
    """Subscribers that arrive together share one reader: one copy each, one XREAD."""
    streams = [broadcaster.subscribe("crowd") for _ in range(count)]
    firsts = [asyncio.ensure_future(anext(s)) for s in streams]
    async with asyncio.timeout(10):
        while broadcaster.client_count < count or not _listening(broadcaster, "crowd"):
            await asyncio.sleep(0.01)
    await broadcaster.publish("crowd", "once")
    await broadcaster.publish("crowd", "twice")
    async with asyncio.timeout(10):
        got = [await first for first in firsts]
        seconds = [await anext(s) for s in streams]
    assert [e.data for e in got] == ["once"] * count
    assert [e.data for e in seconds] == ["twice"] * count
    if broadcaster.url is not None:
        assert await _blocked_reads(broadcaster.url) == 1
    for stream in streams:
        await stream.aclose()  # type: ignore[attr-defined]
    assert broadcaster.client_count == 0
    if broadcaster.url is not None:  # the reader stops once its XREAD BLOCK returns
        async with asyncio.timeout(READ_BLOCK_MS / 1000 + 3):
            while await _blocked_reads(broadcaster.url):
                await asyncio.sleep(0.05)


async def _blocked_reads(url: str) -> int:
    """Redis connections currently blocked in XREAD."""
    client = aioredis.from_url(url, decode_responses=True)
    try:
        clients = await client.client_list()
    finally:
        await client.aclose()
    return sum(1 for c in clients if c.get("cmd") == "xread" and "b" in c.get("flags", ""))


async def test_a_quiet_redis_channel_keeps_its_reader_without_timeouts(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """XREAD blocks for less than redis-py's 5 s socket timeout, so silence is not an error."""
    broadcaster = Broadcaster(url=redis_url)
    with caplog.at_level("WARNING", logger="dash_quart.broadcast"):
        events = await _subscribed(broadcaster, "quiet")
        started = asyncio.get_running_loop().time()
        while asyncio.get_running_loop().time() - started < 6:  # past one socket timeout
            assert not caplog.records, caplog.text
            await asyncio.sleep(0.5)
        await broadcaster.publish("quiet", "still here")
        assert [e.data for e in await _take(events, 1)] == ["still here"]
        await events.aclose()  # type: ignore[attr-defined]
    assert caplog.text == ""
    await broadcaster.close()


async def test_stream_feed_sends_waiting_events_in_one_write_then_pings(
    broadcaster: Broadcaster,
) -> None:
    """What ``Broadcaster.stream`` sends: the announcement, joined events, then pings."""
    from dash_quart.broadcast.broadcaster import _SubscriptionFeed
    from dash_quart.sse import _encode

    body = _encode(_SubscriptionFeed(broadcaster, "feed", None), ping=0.2, send_timeout=5)
    async with asyncio.timeout(5):
        assert await anext(body) == b": subscribed\n\n"
        ids = [await broadcaster.publish("feed", {"n": n}) for n in range(3)]
        if broadcaster.url is not None:  # wait until the reader has handed over all three
            while broadcaster._subscribers["feed"] and not all(
                len(s.entries) == 3 for s in broadcaster._subscribers["feed"]
            ):
                await asyncio.sleep(0.01)
        chunk = await anext(body)
        assert chunk == b"".join(
            f'id: {ids[n]}\ndata: {{"n":{n}}}\n\n'.encode() for n in range(3)
        )
        assert await anext(body) == b": ping\n\n"
    await body.aclose()  # type: ignore[attr-defined]
    assert broadcaster.client_count == 0


async def test_stream_feed_of_a_slow_client_ends_on_overflow(broadcaster: Broadcaster) -> None:
    from dash_quart.broadcast.broadcaster import _SubscriptionFeed
    from dash_quart.sse import _encode

    body = _encode(_SubscriptionFeed(broadcaster, "slow-feed", None), ping=None, send_timeout=5)
    async with asyncio.timeout(5):
        assert await anext(body) == b": subscribed\n\n"
        for n in range(broadcaster.client_queue + 1):
            await broadcaster.publish("slow-feed", n)
        if broadcaster.url is not None:
            while broadcaster.client_count and not all(
                s.overflowed for s in broadcaster._subscribers["slow-feed"]
            ):
                await asyncio.sleep(0.01)
        with pytest.raises(StopAsyncIteration):
            await anext(body)
    assert broadcaster.client_count == 0


async def test_what_cannot_be_sent_is_refused_before_it_is_stored(
    broadcaster: Broadcaster,
) -> None:
    with pytest.raises(ValueError):
        await broadcaster.publish("clean", "\ud800")  # a lone surrogate: not UTF-8
    with pytest.raises(ValueError):
        await broadcaster.publish("clean", "x", event="two\nlines")
    await broadcaster.publish("clean", "ok")
    start = "0" if broadcaster.url is None else "0-0"
    events = broadcaster.subscribe("clean", last_event_id=start)
    assert [e.data for e in await _take(events, 1)] == ["ok"]  # nothing else was kept
    await events.aclose()  # type: ignore[attr-defined]


async def test_a_malformed_redis_entry_is_skipped_and_the_reader_carries_on(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An entry written by another program that cannot be sent is logged and skipped."""
    broadcaster = Broadcaster(url=redis_url)
    events = await _subscribed(broadcaster, "mixed")
    client = aioredis.from_url(redis_url)
    key = "dash_quart:sse:mixed"
    with caplog.at_level("WARNING", logger="dash_quart.broadcast"):
        await client.xadd(key, {"e": "bad\nname", "d": '"x"'})
        await client.xadd(key, {"e": "", "d": "not json"})
        await broadcaster.publish("mixed", "after")
        assert [e.data for e in await _take(events, 1)] == ["after"]
    await client.aclose()
    assert "Skipping event" in caplog.text and "malformed entry" in caplog.text
    await events.aclose()  # type: ignore[attr-defined]
    await broadcaster.close()


async def test_a_subscriber_that_comes_back_at_once_reuses_the_stopping_reader(
    redis_url: str,
) -> None:
    broadcaster = Broadcaster(url=redis_url)
    for _ in range(5):  # a browser reloading: leave, and subscribe again within one XREAD
        events = await _subscribed(broadcaster, "flap")
        await events.aclose()  # type: ignore[attr-defined]
    events = await _subscribed(broadcaster, "flap")
    await broadcaster.publish("flap", "still one reader")
    assert [e.data for e in await _take(events, 1)] == ["still one reader"]
    assert await _blocked_reads(redis_url) == 1
    await events.aclose()  # type: ignore[attr-defined]
    await broadcaster.close()
    async with asyncio.timeout(READ_BLOCK_MS / 1000 + 3):
        while await _blocked_reads(redis_url):
            await asyncio.sleep(0.05)
