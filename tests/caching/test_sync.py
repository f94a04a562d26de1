"""``cache.sync`` and cached ``def`` functions, from worker threads; loud on the loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from dash_quart_caching import LoopThreadError, SimpleCache
from quart import Quart

import dash_quart

from .conftest import MakeCache


class SlowCache(SimpleCache):
    """A SimpleCache whose reads take a second, for timeouts."""

    async def get(self, key: str) -> Any:
        await asyncio.sleep(1)
        return await super().get(key)


async def test_sync_api_from_sync_views_in_the_pool(make_cache: MakeCache) -> None:
    server = Quart(__name__)
    dash_quart.DashQuart(server)
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"}, server)

    @app.get("/visit")
    def visit() -> dict[str, Any]:
        count = cache.sync.inc("visits")
        cache.sync.set("last", {"thread": threading.current_thread().name})
        return {
            "count": count,
            "last": cache.sync.get("last"),
            "many": cache.sync.get_many("visits", "missing"),
            "has": cache.sync.has("visits"),
            "added": cache.sync.add("visits", 0),
        }

    client = app.test_client()
    first = await (await client.get("/visit")).get_json()
    second = await (await client.get("/visit")).get_json()
    assert first["count"] == 1
    assert second["count"] == 2
    assert second["many"] == [2, None]
    assert second["has"] is True and second["added"] is False
    assert second["last"]["thread"].startswith("dash-quart-sync")
    async with app.app_context():
        assert await cache.get("visits") == 2


async def test_cached_sync_view_and_run_sync(make_cache: MakeCache) -> None:
    server = Quart(__name__)
    dash_quart.DashQuart(server)
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"}, server)
    calls = {"view": 0, "square": 0}

    @cache.memoize()
    def square(x: int) -> int:
        calls["square"] += 1
        return x * x

    @app.get("/page")
    @cache.cached(timeout=60)
    def page() -> str:
        calls["view"] += 1
        return f"page {calls['view']}"

    @app.get("/square/<int:x>")
    async def square_view(x: int) -> str:
        return str(await dash_quart.run_sync(square, x))

    client = app.test_client()
    assert [await (await client.get("/page")).get_data(as_text=True) for _ in range(3)] == [
        "page 1"
    ] * 3
    assert [await (await client.get("/square/4")).get_data(as_text=True) for _ in range(3)] == [
        "16"
    ] * 3
    assert calls == {"view": 1, "square": 1}


async def test_sync_api_on_the_loop_names_the_fix(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"})
    async with app.app_context():
        with pytest.raises(LoopThreadError, match=r"await cache\.get\(\.\.\.\)"):
            cache.sync.get("key")


async def test_cached_sync_function_on_the_loop_names_the_fix(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"})

    @cache.memoize()
    def blocking(x: int) -> int:
        return x

    async with app.app_context():
        with pytest.raises(LoopThreadError, match=r"run_sync\(blocking"):
            blocking(1)
        assert await dash_quart.run_sync(blocking, 2) == 2


async def test_sync_api_after_the_loop_is_gone(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"})

    async def use_and_close_a_loop() -> None:
        async with app.app_context():
            pass

    def in_thread() -> None:
        asyncio.run(use_and_close_a_loop())
        with pytest.raises(RuntimeError, match="no running event loop"):
            cache.sync.get("key")

    async with app.app_context():
        await asyncio.to_thread(in_thread)


async def test_sync_timeout(make_cache: MakeCache) -> None:
    app, cache = make_cache(
        {"CACHE_TYPE": "tests.caching.test_sync.SlowCache", "CACHE_SYNC_TIMEOUT": 0.1}
    )
    async with app.app_context():
        await cache.set("key", "value")
        with pytest.raises(TimeoutError, match="CACHE_SYNC_TIMEOUT"):
            await dash_quart.run_sync(cache.sync.get, "key")


async def test_every_sync_method(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"})

    @cache.memoize()
    def double(x: int) -> int:
        return x * 2

    @cache.cached(key_prefix="page/%s")
    def page() -> str:
        return "page"

    def exercise() -> list[Any]:
        s = cache.sync
        out: list[Any] = [
            s.set_many({"a": 1, "b": 2, "report/x": 3}),
            s.get_dict("a", "b"),
            s.dec("a"),
            s.delete("b"),
            s.delete_many("a", "b"),
            s.unlink("missing"),
            s.delete_prefix("report/"),
            double(2),
        ]
        s.delete_memoized(double, 2)
        s.delete_memoized_verhash(double)
        out.append(s.delete_cached(page, path="/page"))
        out.append(s.clear())
        return out

    async with app.app_context():
        result = await asyncio.to_thread(exercise)
    assert result == [
        ["a", "b", "report/x"], {"a": 1, "b": 2}, 0, True, ["a", "b"], ["missing"], 1, 4,
        False, True,
    ]


async def test_bridged_flask_views_use_the_sync_api(make_cache: MakeCache) -> None:
    import flask

    server = Quart(__name__)
    dash_quart.DashQuart(server)
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"}, server)
    calls = {"slow": 0}
    bp = flask.Blueprint("legacy", __name__)

    @cache.memoize()
    def slow(x: int) -> str:
        calls["slow"] += 1
        return f"slow {x}"

    @bp.get("/hello")
    def hello() -> dict[str, Any]:
        return {"n": cache.sync.inc("n"), "slow": slow(1), "path": flask.request.path}

    dash_quart.register_flask_blueprint(server, bp, url_prefix="/legacy")
    client = app.test_client()
    bodies = [await (await client.get("/legacy/hello")).get_json() for _ in range(2)]
    assert bodies == [
        {"n": 1, "slow": "slow 1", "path": "/legacy/hello"},
        {"n": 2, "slow": "slow 1", "path": "/legacy/hello"},
    ]
    assert calls["slow"] == 1
