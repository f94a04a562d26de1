"""The whole async API on every backend, against the real thing (Redis included)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from dash_quart_caching import Cache
from quart import Quart

from .conftest import MakeCache


async def until(condition: Any, timeout: float = 5.0) -> None:
    """Await ``condition()`` until it is true, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_get_set_has_delete(cache_app: tuple[Quart, Cache]) -> None:
    _, cache = cache_app
    assert await cache.get("missing") is None
    assert await cache.has("missing") is False
    value = {"rows": [1, 2, 3], "nested": {"a": (1, 2)}, "text": "héllo"}
    assert await cache.set("report/eu", value) is True
    assert await cache.get("report/eu") == value
    assert await cache.has("report/eu") is True
    assert await cache.delete("report/eu") is True
    assert await cache.get("report/eu") is None
    assert await cache.delete("report/eu") is False


async def test_values_are_copies(cache_app: tuple[Quart, Cache]) -> None:
    _, cache = cache_app
    rows = [1, 2]
    await cache.set("rows", rows)
    rows.append(3)
    first = await cache.get("rows")
    first.append(4)
    assert await cache.get("rows") == [1, 2]


async def test_add_only_when_absent(cache_app: tuple[Quart, Cache]) -> None:
    _, cache = cache_app
    assert await cache.add("k", "first") is True
    assert await cache.add("k", "second") is False
    assert await cache.get("k") == "first"


async def test_many(cache_app: tuple[Quart, Cache]) -> None:
    _, cache = cache_app
    stored = await cache.set_many({"a": 1, "b": "two", "c": None})
    assert sorted(stored) == ["a", "b", "c"]
    assert await cache.get_many("a", "b", "missing") == [1, "two", None]
    assert await cache.get_dict("a", "b") == {"a": 1, "b": "two"}
    assert sorted(await cache.delete_many("a", "b", "missing")) == ["a", "b", "missing"]
    assert await cache.get_many("a", "b") == [None, None]
    assert await cache.unlink() == []


async def test_inc_dec(cache_app: tuple[Quart, Cache]) -> None:
    _, cache = cache_app
    assert await cache.inc("n") == 1
    assert await cache.inc("n", 5) == 6
    assert await cache.dec("n", 2) == 4
    assert await cache.dec("fresh") == -1
    assert await cache.get("n") == 4


async def test_concurrent_inc_is_atomic(cache_app: tuple[Quart, Cache]) -> None:
    _, cache = cache_app
    await asyncio.gather(*(cache.inc("hits") for _ in range(50)))
    assert await cache.get("hits") == 50


async def test_clear(cache_app: tuple[Quart, Cache]) -> None:
    _, cache = cache_app
    await cache.set_many({"a": 1, "b": 2})
    assert await cache.clear() is True
    assert await cache.get_many("a", "b") == [None, None]


async def test_delete_prefix(cache_app: tuple[Quart, Cache]) -> None:
    _, cache = cache_app
    await cache.set_many({"report/eu": 1, "report/us": 2, "reports": 3, "other/report/x": 4})
    await cache.set("glob*[x]?", 5)
    assert await cache.delete_prefix("report/") == 2
    assert await cache.get_many("report/eu", "report/us", "reports", "other/report/x") == [
        None, None, 3, 4,
    ]
    assert await cache.delete_prefix("glob*[") == 1
    assert await cache.get("glob*[x]?") is None
    assert await cache.delete_prefix("nothing/") == 0


async def test_timeouts_expire(cache_app: tuple[Quart, Cache]) -> None:
    _, cache = cache_app
    await cache.set("short", "v", timeout=1)
    await cache.set("delta", "v", timeout=timedelta(milliseconds=200))
    await cache.set("forever", "v", timeout=0)
    assert await cache.get("short") == "v"

    async def expired() -> bool:
        return await cache.get_many("short", "delta") == [None, None]

    await until(expired)
    assert await cache.has("short") is False
    assert await cache.get("forever") == "v"
    assert await cache.add("short", "again") is True


async def test_default_timeout_from_config(make_cache: MakeCache, backend: dict[str, Any]) -> None:
    app, cache = make_cache({**backend, "CACHE_DEFAULT_TIMEOUT": 1})
    async with app.app_context():
        await cache.set("k", "v")
        assert await cache.get("k") == "v"

        async def gone() -> bool:
            return await cache.get("k") is None

        await until(gone)


async def test_locks(cache_app: tuple[Quart, Cache]) -> None:
    _, cache = cache_app
    backend = cache.cache
    assert await backend.acquire_lock("job::lock", "token-a", 5) is True
    assert await backend.acquire_lock("job::lock", "token-b", 5) is False
    assert await backend.release_lock("job::lock", "token-b") is False
    assert await backend.release_lock("job::lock", "token-a") is True
    assert await backend.acquire_lock("job::lock", "token-b", 5) is True


async def test_null_cache_stores_nothing(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True})
    async with app.app_context():
        assert await cache.set("k", 1) is True
        assert await cache.get("k") is None
        assert await cache.has("k") is False
        assert await cache.get_many("a", "b") == [None, None]
        assert await cache.delete_prefix("") == 0


async def test_simple_cache_threshold(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 10})
    async with app.app_context():
        for i in range(25):
            await cache.set(f"k{i}", i, timeout=100 + i)
        values = await cache.get_many(*(f"k{i}" for i in range(25)))
        kept = [v for v in values if v is not None]
        assert len(kept) <= 10
        assert 24 in kept


@pytest.mark.parametrize("backend", ["redis"], indirect=True)
async def test_redis_format_matches_flask_caching(
    cache_app: tuple[Quart, Cache], cache_redis_url: str
) -> None:
    import redis
    from cachelib.redis import RedisCache as CachelibRedisCache

    _, cache = cache_app
    client = redis.Redis.from_url(cache_redis_url)
    upstream = CachelibRedisCache(host=client, key_prefix="flask_cache_")
    try:
        upstream.set("from-flask", {"a": [1, 2]})
        upstream.set("count", 41)
        assert await cache.get("from-flask") == {"a": [1, 2]}
        assert await cache.inc("count") == 42
        await cache.set("from-quart", ("x", 1))
        assert upstream.get("from-quart") == ("x", 1)
        assert client.exists("flask_cache_from-quart")
    finally:
        client.close()


async def test_redis_cache_accepts_a_client(cache_redis_url: str) -> None:
    import redis.asyncio as aioredis
    from dash_quart_caching import RedisCache

    client = aioredis.from_url(cache_redis_url)
    backend = RedisCache(client, key_prefix="given:")
    try:
        await backend.set("k", [1])
        assert await client.exists("given:k")
        assert await backend.get("k") == [1]
        await backend.close()
        assert await client.ping()
    finally:
        await client.aclose()
