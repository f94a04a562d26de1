"""One interface over Flask-Caching (on Flask) and dash-quart-caching (on Quart).

A parity scenario is written once against :class:`Harness`, with plain ``def`` functions,
and run on both; its observations (return values and call counts) must be equal.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from typing import Any

import flask
import flask_caching
import quart
from dash_quart_caching import Cache


class Harness:
    name = "harness"

    def memoize(self, fn: Callable[..., Any], **options: Any) -> Any:
        raise NotImplementedError

    def cached(self, fn: Callable[..., Any], **options: Any) -> Any:
        raise NotImplementedError

    async def call(self, decorated: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def delete_memoized(self, decorated: Any, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    async def delete_memoized_verhash(self, decorated: Any) -> None:
        raise NotImplementedError

    async def delete_cached(self, decorated: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def view(self, rule: str, fn: Callable[..., Any], **options: Any) -> Any:
        raise NotImplementedError

    async def get(self, path: str) -> tuple[int, str, str | None]:
        """Status, body and ``hit_cache`` header of a GET."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release connections."""


class Upstream(Harness):
    """Flask-Caching 2.5 with SimpleCache on a Flask app: the reference."""

    name = "flask-caching"

    def __init__(self) -> None:
        self.app = flask.Flask(f"upstream_{id(self)}")
        self.cache = flask_caching.Cache(self.app, config={"CACHE_TYPE": "SimpleCache"})
        self.client = self.app.test_client()

    def memoize(self, fn: Callable[..., Any], **options: Any) -> Any:
        return self.cache.memoize(**options)(fn)

    def cached(self, fn: Callable[..., Any], **options: Any) -> Any:
        return self.cache.cached(**options)(fn)

    async def call(self, decorated: Any, *args: Any, **kwargs: Any) -> Any:
        with self.app.app_context():
            return decorated(*args, **kwargs)

    async def delete_memoized(self, decorated: Any, *args: Any, **kwargs: Any) -> None:
        self.cache.delete_memoized(decorated, *args, **kwargs)

    async def delete_memoized_verhash(self, decorated: Any) -> None:
        self.cache.delete_memoized_verhash(decorated)

    async def delete_cached(self, decorated: Any, **kwargs: Any) -> None:
        with self.app.app_context():
            self.cache.delete_cached(decorated, **kwargs)

    def view(self, rule: str, fn: Callable[..., Any], **options: Any) -> Any:
        decorated = self.cache.cached(**options)(fn)
        self.app.add_url_rule(rule, view_func=decorated)
        return decorated

    async def get(self, path: str) -> tuple[int, str, str | None]:
        response = self.client.get(path)
        hit = response.headers.get("hit_cache")
        return response.status_code, response.get_data(as_text=True), hit


def _as_async(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def _async(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0)
        return fn(*args, **kwargs)

    return _async


class Ours(Harness):
    """dash-quart-caching on a Quart app, with ``async def`` or ``def`` functions.

    In ``sync`` mode the decorated ``def`` functions run in worker threads, as sync views
    and sync Dash callbacks do, and reach the cache through ``cache.sync``.
    """

    def __init__(self, config: dict[str, Any], *, sync: bool) -> None:
        self.sync = sync
        self.name = f"{config['CACHE_TYPE']}-{'sync' if sync else 'async'}"
        self.app = quart.Quart(f"ours_{id(self)}")
        self.cache = Cache(self.app, config=config)
        self.client = self.app.test_client()

    def _fn(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return fn if self.sync else _as_async(fn)

    def memoize(self, fn: Callable[..., Any], **options: Any) -> Any:
        return self.cache.memoize(**options)(self._fn(fn))

    def cached(self, fn: Callable[..., Any], **options: Any) -> Any:
        return self.cache.cached(**options)(self._fn(fn))

    async def _in_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(None, call)

    async def call(self, decorated: Any, *args: Any, **kwargs: Any) -> Any:
        async with self.app.app_context():
            await self.cache.has("loop")
            if self.sync:
                return await self._in_thread(decorated, *args, **kwargs)
            return await decorated(*args, **kwargs)

    async def delete_memoized(self, decorated: Any, *args: Any, **kwargs: Any) -> None:
        async with self.app.app_context():
            if self.sync:
                await self._in_thread(self.cache.sync.delete_memoized, decorated, *args, **kwargs)
            else:
                await self.cache.delete_memoized(decorated, *args, **kwargs)

    async def delete_memoized_verhash(self, decorated: Any) -> None:
        async with self.app.app_context():
            await self.cache.delete_memoized_verhash(decorated)

    async def delete_cached(self, decorated: Any, **kwargs: Any) -> None:
        async with self.app.app_context():
            await self.cache.delete_cached(decorated, **kwargs)

    def view(self, rule: str, fn: Callable[..., Any], **options: Any) -> Any:
        decorated = self.cache.cached(**options)(self._fn(fn))
        self.app.add_url_rule(rule, view_func=decorated)
        return decorated

    async def get(self, path: str) -> tuple[int, str, str | None]:
        response = await self.client.get(path)
        hit = response.headers.get("hit_cache")
        return response.status_code, await response.get_data(as_text=True), hit

    async def close(self) -> None:
        async with self.app.app_context():
            await self.cache.close()
