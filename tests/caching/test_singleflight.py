"""Concurrent misses for one key compute once: in a process, and across processes."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from .conftest import MakeCache, db_url


async def test_hundred_concurrent_calls_compute_once(
    make_cache: MakeCache, backend: dict[str, Any]
) -> None:
    app, cache = make_cache(backend)
    calls = 0

    @cache.memoize(timeout=60)
    async def slow(x: int) -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        return {"x": x, "calls": calls}

    async with app.app_context():
        results = await asyncio.gather(*(slow(7) for _ in range(100)))
        assert calls == 1
        assert all(r == {"x": 7, "calls": 1} for r in results)
        results[0]["x"] = -1
        assert results[1]["x"] == 7
        assert await slow(7) == {"x": 7, "calls": 1}


async def test_leader_error_is_shared(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"})
    calls = 0

    @cache.memoize()
    async def broken(x: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.1)
        raise ValueError("upstream service down")

    async with app.app_context():
        results = await asyncio.gather(*(broken(1) for _ in range(10)), return_exceptions=True)
    assert calls == 1
    assert all(isinstance(r, ValueError) for r in results)


async def test_cancelled_leader_hands_over(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"})
    started = asyncio.Event()
    calls = 0

    @cache.memoize()
    async def slow(x: int) -> int:
        nonlocal calls
        calls += 1
        started.set()
        await asyncio.sleep(0.2)
        return x

    async with app.app_context():
        leader = asyncio.ensure_future(slow(1))
        await started.wait()
        waiters = [asyncio.ensure_future(slow(1)) for _ in range(5)]
        await asyncio.sleep(0.01)
        leader.cancel()
        assert await asyncio.gather(*waiters) == [1] * 5
    assert calls == 2


async def test_single_flight_can_be_turned_off(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache", "CACHE_SINGLE_FLIGHT": False})
    calls = 0

    @cache.memoize()
    async def slow(x: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return x

    async with app.app_context():
        await asyncio.gather(*(slow(1) for _ in range(10)))
    assert calls == 10


async def test_sync_function_in_threads_computes_once(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"})
    calls = 0
    lock = threading.Lock()

    @cache.memoize()
    def slow(x: int) -> int:
        nonlocal calls
        with lock:
            calls += 1
        time.sleep(0.2)
        return x * 2

    async with app.app_context():
        await cache.has("capture the loop")
        loop = asyncio.get_running_loop()
        calls_in_threads = [
            loop.run_in_executor(None, functools.partial(contextvars.copy_context().run, slow, 4))
            for _ in range(20)
        ]
        assert await asyncio.gather(*calls_in_threads) == [8] * 20
    assert calls == 1


async def test_crashed_lock_holder_cannot_wedge_the_key(
    make_cache: MakeCache, cache_redis_url: str
) -> None:
    app, cache = make_cache(
        {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": cache_redis_url, "CACHE_LOCK_TIMEOUT": 1}
    )
    calls = 0

    @cache.memoize()
    async def job(x: int) -> int:
        nonlocal calls
        calls += 1
        return x

    client = aioredis.from_url(cache_redis_url)
    try:
        async with app.app_context():
            key = await job.make_cache_key(job.uncached, 3)
            await client.set(f"flask_cache_{key}::lock", "crashed-holder", px=800)
            started = time.monotonic()
            assert await asyncio.gather(job(3), job(3)) == [3, 3]
            elapsed = time.monotonic() - started
    finally:
        await client.aclose()
    assert calls == 1
    assert 0.5 < elapsed < 3


CHILD = textwrap.dedent(
    """
    import asyncio, sys
    import redis.asyncio as aioredis
    from quart import Quart
    from dash_quart_caching import Cache

    url = sys.argv[1]
    app = Quart("worker")
    cache = Cache(app, config={"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url})
    counter = aioredis.from_url(url)

    @cache.memoize(timeout=60)
    async def report(region):
        await counter.incr("computations")
        await asyncio.sleep(0.5)
        return f"report for {region}"

    async def main():
        async with app.app_context():
            await counter.incr("ready")
            while not await counter.exists("go"):
                await asyncio.sleep(0.01)
            results = await asyncio.gather(*(report("eu") for _ in range(50)))
            assert set(results) == {"report for eu"}, results
            await cache.close()
        await counter.aclose()
        print("ok", len(results))

    asyncio.run(main())
    """
)


async def test_two_processes_compute_once(
    redis_url: str, tmp_path: Path, caching_env: dict[str, str]
) -> None:
    url = db_url(redis_url, 6)
    client = aioredis.from_url(url)
    await client.flushdb()
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    children = [
        subprocess.Popen(
            [sys.executable, str(script), url],
            env=caching_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 30
        while int(await client.get("ready") or 0) < 2:
            assert time.monotonic() < deadline, "the child processes did not start"
            assert all(child.poll() is None for child in children)
            await asyncio.sleep(0.05)
        await client.set("go", 1)
        outputs = [await asyncio.to_thread(child.communicate, timeout=60) for child in children]
        for child, (out, err) in zip(children, outputs, strict=True):
            assert child.returncode == 0, err
            assert out.strip() == "ok 50"
        assert int(await client.get("computations") or 0) == 1
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
        await client.flushdb()
        await client.aclose()


@pytest.mark.parametrize("backend", ["redis"], indirect=True)
async def test_memoize_versions_agree_under_concurrency(
    make_cache: MakeCache, backend: dict[str, Any]
) -> None:
    first_app, first = make_cache(backend)
    second_app, second = make_cache(backend)

    def f(x: int) -> int:
        return x

    a, b = first.memoize()(f), second.memoize()(f)

    async def key_in(app: Any, fn: Any) -> str:
        async with app.app_context():
            key: str = await fn.make_cache_key(fn.uncached, 1)
            return key

    keys = await asyncio.gather(*(key_in(first_app, a) for _ in range(5)),
                                *(key_in(second_app, b) for _ in range(5)))
    assert len(set(keys)) == 1
