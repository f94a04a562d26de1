"""Cached Quart views keep their body, status and headers, and are rebuilt on each hit."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

from dash_quart_caching import CachedResponse
from quart import Response, jsonify, make_response

from .conftest import MakeCache


async def test_response_objects_keep_body_status_and_headers(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"})
    counter = itertools.count(1)
    served = itertools.count(1)

    @app.get("/json")
    @cache.cached(timeout=60)
    async def as_json() -> Response:
        response = jsonify({"n": next(counter)})
        response.status_code = 201
        response.headers["X-Custom"] = "kept"
        response.headers.add("X-Multi", "a")
        response.headers.add("X-Multi", "b")
        return response

    @app.get("/tuple")
    @cache.cached(timeout=60)
    async def as_tuple() -> tuple[Response, int]:
        return await make_response(f"tuple {next(counter)}"), 202

    @app.after_request
    async def stamp(response: Response) -> Response:
        response.headers["X-Served"] = str(next(served))
        return response

    client = app.test_client()
    first, second = await client.get("/json"), await client.get("/json")
    for response in (first, second):
        assert response.status_code == 201
        assert await response.get_json() == {"n": 1}
        assert response.headers["X-Custom"] == "kept"
        assert response.headers.getlist("X-Multi") == ["a", "b"]
        assert response.headers["Content-Type"] == "application/json"
    assert (first.headers["X-Served"], second.headers["X-Served"]) == ("1", "2")
    for _ in range(2):
        response = await client.get("/tuple")
        assert response.status_code == 202
        assert await response.get_data(as_text=True) == "tuple 2"


async def test_streamed_responses_are_not_cached(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"})
    counter = itertools.count(1)

    @app.get("/stream")
    @cache.cached(timeout=60)
    async def stream() -> Response:
        n = next(counter)

        async def chunks() -> AsyncIterator[bytes]:
            yield b"chunk "
            yield str(n).encode()

        return Response(chunks())

    client = app.test_client()
    bodies = await asyncio.gather(*(client.get("/stream") for _ in range(3)))
    assert sorted([await r.get_data(as_text=True) for r in bodies]) == [
        "chunk 1", "chunk 2", "chunk 3",
    ]


async def test_cached_response_sets_its_own_timeout(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"})
    counter = itertools.count(1)

    @app.get("/short")
    @cache.cached(timeout=3600)
    async def short() -> Response:
        return CachedResponse(await make_response(f"short {next(counter)}"), timeout=1)

    client = app.test_client()
    assert await (await client.get("/short")).get_data(as_text=True) == "short 1"
    assert await (await client.get("/short")).get_data(as_text=True) == "short 1"
    deadline = time.monotonic() + 5
    while await (await client.get("/short")).get_data(as_text=True) == "short 1":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def test_delete_prefix_forgets_a_group_of_views(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"})
    counter = itertools.count(1)

    @app.get("/report/<region>")
    @cache.cached(key_prefix="report/%s")
    async def report(region: str) -> str:
        return f"{region} {next(counter)}"

    @app.get("/other")
    @cache.cached()
    async def other() -> str:
        return f"other {next(counter)}"

    client = app.test_client()

    async def text(path: str) -> str:
        return await (await client.get(path)).get_data(as_text=True)

    assert [await text(p) for p in ("/report/eu", "/report/us", "/other")] == [
        "eu 1", "us 2", "other 3",
    ]
    async with app.app_context():
        assert await cache.delete_prefix("report/") == 2
    assert [await text(p) for p in ("/report/eu", "/report/us", "/other")] == [
        "eu 4", "us 5", "other 3",
    ]


async def test_view_without_request_context_is_computed(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "SimpleCache"})
    calls = itertools.count(1)

    @cache.cached()
    async def page() -> str:
        return f"page {next(calls)}"

    async with app.app_context():
        assert [await page(), await page()] == ["page 1", "page 2"]
