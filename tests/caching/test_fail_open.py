"""A Redis outage degrades to computing every call, logged, never to an error page."""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

import pytest
from dash_quart_caching import Cache
from quart import Quart

from dash_quart.testing import wait_for_port

from .conftest import MakeCache, RedisServer


def _app_with_cache(
    make_cache: MakeCache, url: str, **config: object
) -> tuple[Quart, Cache, dict[str, int]]:
    app, cache = make_cache({"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url, **config})
    calls = {"report": 0, "page": 0}

    @cache.memoize(timeout=60)
    async def report(region: str) -> str:
        calls["report"] += 1
        return f"report {region} #{calls['report']}"

    @app.get("/page")
    @cache.cached(timeout=60)
    async def page() -> tuple[str, int, dict[str, str]]:
        calls["page"] += 1
        return f"page #{calls['page']}", 200, {"X-Page": "yes"}

    @app.get("/report/<region>")
    async def report_view(region: str) -> str:
        return await report(region)

    return app, cache, calls


async def test_outage_fails_open(
    make_cache: MakeCache, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    app, cache, calls = _app_with_cache(make_cache, own_redis.url)
    client = app.test_client()
    for _ in range(2):
        assert await (await client.get("/report/eu")).get_data(as_text=True) == "report eu #1"
        assert await (await client.get("/page")).get_data(as_text=True) == "page #1"

    own_redis.stop()
    with caplog.at_level(logging.WARNING, logger="dash_quart_caching"):
        started = time.monotonic()
        for expected in (2, 3):
            response = await client.get("/report/eu")
            assert response.status_code == 200
            assert await response.get_data(as_text=True) == f"report eu #{expected}"
        page = await client.get("/page")
        assert page.status_code == 200
        assert page.headers["X-Page"] == "yes"
        assert await page.get_data(as_text=True) == "page #2"
        assert time.monotonic() - started < 5
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings
    assert any("failed; calling it without the cache" in r.getMessage() for r in warnings)
    assert calls == {"report": 3, "page": 2}

    async with app.app_context():
        with pytest.raises(Exception, match="(?i)connect"):
            await cache.get("direct calls are not hidden")


async def test_recovers_when_redis_returns(
    make_cache: MakeCache, own_redis: RedisServer, tmp_path: Path
) -> None:
    app, _, calls = _app_with_cache(make_cache, own_redis.url)
    client = app.test_client()
    await client.get("/report/eu")
    own_redis.stop()
    await client.get("/report/eu")
    restarted = subprocess.Popen(
        ["redis-server", "--port", str(own_redis.port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(own_redis.port)
        bodies = [await (await client.get("/report/eu")).get_data(as_text=True) for _ in range(3)]
        assert bodies == ["report eu #3"] * 3
        assert calls["report"] == 3
    finally:
        restarted.terminate()
        restarted.wait(timeout=15)


async def test_fail_open_off_raises(make_cache: MakeCache, own_redis: RedisServer) -> None:
    app, cache, _ = _app_with_cache(make_cache, own_redis.url, CACHE_FAIL_OPEN=False)
    client = app.test_client()
    assert (await client.get("/page")).status_code == 200
    own_redis.stop()
    assert (await client.get("/page")).status_code == 500
