"""Concurrent misses of one slow memoized function: how many times does it run?

Ours: ``concurrent`` calls of an ``async def`` (``await asyncio.sleep(delay)``) gathered on
one event loop, and the same number spread over several processes that share a Redis.
Flask-Caching: the same number of threads calling a ``def`` (``time.sleep(delay)``), each in
its own app context, released together by a barrier.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue as queues
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import flask
import flask_caching
import redis
from dash_quart_caching import Cache
from quart import Quart

from .latency import config

VALUE = {"report": "ready"}


async def _ours_gather(settings: dict[str, Any], concurrent: int, delay: float) -> dict[str, Any]:
    app = Quart("bench_caching_flight")
    cache = Cache(app, config=settings)
    computed = 0

    @cache.memoize(timeout=60)
    async def slow(x: int) -> dict[str, Any]:
        nonlocal computed
        computed += 1
        await asyncio.sleep(delay)
        return {**VALUE, "x": x}

    async with app.app_context():
        started = time.perf_counter()
        results = await asyncio.gather(*(slow(7) for _ in range(concurrent)))
        wall = time.perf_counter() - started
        await cache.close()
    return {
        "calls": concurrent,
        "computations": computed,
        "wall_s": round(wall, 3),
        "correct": all(r == {**VALUE, "x": 7} for r in results),
    }


def ours(backend: str, *, concurrent: int, delay: float, redis_url: str | None) -> dict[str, Any]:
    """``concurrent`` gathered misses of an ``async def`` on one event loop."""
    with tempfile.TemporaryDirectory(prefix="bench-caching-flight-") as tmp:
        settings = config(backend, "ours", Path(tmp), redis_url)
        flush(settings.get("CACHE_REDIS_URL"))
        try:
            return asyncio.run(_ours_gather(settings, concurrent, delay))
        finally:
            flush(settings.get("CACHE_REDIS_URL"))


def upstream(
    backend: str, *, concurrent: int, delay: float, redis_url: str | None
) -> dict[str, Any]:
    """``concurrent`` threads calling a Flask-Caching memoized ``def`` at once."""
    with tempfile.TemporaryDirectory(prefix="bench-caching-flight-") as tmp:
        app = flask.Flask("bench_caching_flight")
        cache = flask_caching.Cache(
            app, config=config(backend, "flask_caching", Path(tmp), redis_url)
        )
        lock = threading.Lock()
        computed = 0

        @cache.memoize(timeout=60)
        def slow(x: int) -> dict[str, Any]:
            nonlocal computed
            with lock:
                computed += 1
            time.sleep(delay)
            return {**VALUE, "x": x}

        barrier = threading.Barrier(concurrent + 1)
        results: list[Any] = [None] * concurrent

        def call(i: int) -> None:
            with app.app_context():
                barrier.wait()
                results[i] = slow(7)

        with app.app_context():
            cache.clear()
        threads = [threading.Thread(target=call, args=(i,)) for i in range(concurrent)]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        with app.app_context():
            cache.clear()
    return {
        "calls": concurrent,
        "computations": computed,
        "wall_s": round(wall, 3),
        "correct": all(r == {**VALUE, "x": 7} for r in results),
    }


def _child(redis_url: str, concurrent: int, delay: float, barrier: Any, results: Any) -> None:
    """One process of :func:`across_processes`: wait for the others, then miss together."""
    settings = config("redis", "ours", Path("."), redis_url)

    async def main() -> dict[str, Any]:
        app = Quart("bench_caching_flight")
        cache = Cache(app, config=settings)
        computed = 0

        @cache.memoize(timeout=60)
        async def slow(x: int) -> dict[str, Any]:
            nonlocal computed
            computed += 1
            await asyncio.sleep(delay)
            return {**VALUE, "x": x}

        async with app.app_context():
            await cache.has("connect first")
            await asyncio.to_thread(barrier.wait)
            values = await asyncio.gather(*(slow(7) for _ in range(concurrent)))
            await cache.close()
        return {"computations": computed, "correct": all(v == {**VALUE, "x": 7} for v in values)}

    results.put(asyncio.run(main()))


def across_processes(
    *, processes: int, concurrent: int, delay: float, redis_url: str
) -> dict[str, Any]:
    """``processes`` spawned processes, each gathering ``concurrent`` misses, on one Redis."""
    settings = config("redis", "ours", Path("."), redis_url)
    flush(settings.get("CACHE_REDIS_URL"))
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes + 1)
    results = context.Queue()
    children = [
        context.Process(target=_child, args=(redis_url, concurrent, delay, barrier, results))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    try:
        barrier.wait(timeout=60)
        started = time.perf_counter()
        outcomes = [results.get(timeout=60) for _ in children]
        wall = time.perf_counter() - started
    except (threading.BrokenBarrierError, queues.Empty) as error:
        raise RuntimeError(f"a single-flight process did not report: {error!r}") from None
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
                child.join()
        flush(settings.get("CACHE_REDIS_URL"))
    return {
        "calls": processes * concurrent,
        "processes": processes,
        "computations": sum(o["computations"] for o in outcomes),
        "wall_s": round(wall, 3),
        "correct": all(o["correct"] for o in outcomes),
    }


def flush(url: str | None) -> None:
    """Empty the Redis database at ``url`` (nothing when it is None)."""
    if url is None:
        return

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
