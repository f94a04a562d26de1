"""``cache.sync``: the cache API for sync code running in a worker thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .keys import QueryArgs, Timeout

if TYPE_CHECKING:
    from .cache import Cache

T = TypeVar("T")

_DEFAULT: Any = object()


class LoopThreadError(RuntimeError):
    """A blocking cache call was made on the event loop thread, which it would deadlock.

    .. versionadded:: 0.1
    """


def on_event_loop() -> bool:
    """Whether this thread is running an event loop right now."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class SyncCache:
    """The methods of :class:`~dash_quart_caching.Cache`, blocking, for sync code.

    Sync views, sync Dash callbacks and functions passed to ``run_sync`` run in a thread
    pool; there, ``cache.sync.get(key)`` runs ``await cache.get(key)`` on the server's event
    loop and waits for it (at most ``CACHE_SYNC_TIMEOUT`` seconds). The calling thread's
    context goes with it, so the app and request stay current. On the event loop thread
    itself it raises :class:`LoopThreadError`: waiting there would deadlock, so async code
    awaits ``cache.get(key)`` instead.

    .. versionadded:: 0.1
    """

    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    def run(
        self,
        name: str,
        make: Callable[[], Awaitable[T]],
        timeout: float | None = _DEFAULT,
        *,
        what: str | None = None,
    ) -> T:
        """Run ``make()`` on the server's loop from this worker thread and return its result.

        ``name`` is the cache method the call stands for; ``what`` describes the caller in
        error messages (``cache.sync.<name>()`` by default).
        """
        fix = f"In async code, use `await cache.{name}(...)` instead."
        if what is not None:
            fix = "Call it from a worker thread, e.g. `await dash_quart.run_sync(func, ...)`."
        what = what or f"cache.sync.{name}()"
        if on_event_loop():
            raise LoopThreadError(
                f"{what} was called on the event loop thread, where waiting for the loop "
                f"would deadlock it. {fix}"
            )
        state = self._cache._state()
        loop = state.loop
        if loop is None or loop.is_closed() or not loop.is_running():
            raise RuntimeError(
                f"{what} has no running event loop to use: it works in worker threads of an "
                "app that is serving, or whose app context was pushed on a running loop "
                f"(`async with app.app_context():`). {fix}"
            )
        if timeout is _DEFAULT:
            timeout = state.sync_timeout

        async def _call() -> T:
            return await make()

        coroutine = _call()
        try:
            future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        except RuntimeError:
            coroutine.close()
            raise
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(
                f"{what} took longer than CACHE_SYNC_TIMEOUT ({timeout} s)."
            ) from None

    def get(self, key: str) -> Any:
        return self.run("get", lambda: self._cache.get(key))

    def set(self, key: str, value: Any, timeout: Timeout | None = None) -> bool:
        return self.run("set", lambda: self._cache.set(key, value, timeout))

    def add(self, key: str, value: Any, timeout: Timeout | None = None) -> bool:
        return self.run("add", lambda: self._cache.add(key, value, timeout))

    def delete(self, key: str) -> bool:
        return self.run("delete", lambda: self._cache.delete(key))

    def delete_many(self, *keys: str) -> list[str]:
        return self.run("delete_many", lambda: self._cache.delete_many(*keys))

    def unlink(self, *keys: str) -> list[str]:
        return self.run("unlink", lambda: self._cache.unlink(*keys))

    def get_many(self, *keys: str) -> list[Any]:
        return self.run("get_many", lambda: self._cache.get_many(*keys))

    def set_many(self, mapping: Mapping[str, Any], timeout: Timeout | None = None) -> list[str]:
        return self.run("set_many", lambda: self._cache.set_many(mapping, timeout))

    def get_dict(self, *keys: str) -> dict[str, Any]:
        return self.run("get_dict", lambda: self._cache.get_dict(*keys))

    def has(self, key: str) -> bool:
        return self.run("has", lambda: self._cache.has(key))

    def clear(self) -> bool:
        return self.run("clear", self._cache.clear)

    def inc(self, key: str, delta: int = 1) -> int | None:
        return self.run("inc", lambda: self._cache.inc(key, delta))

    def dec(self, key: str, delta: int = 1) -> int | None:
        return self.run("dec", lambda: self._cache.dec(key, delta))

    def delete_prefix(self, prefix: str) -> int:
        return self.run("delete_prefix", lambda: self._cache.delete_prefix(prefix))

    def delete_cached(
        self, f: Any, path: str | None = None, query_args: QueryArgs | None = None, **kwargs: Any
    ) -> bool:
        return self.run(
            "delete_cached", lambda: self._cache.delete_cached(f, path, query_args, **kwargs)
        )

    def delete_memoized(self, f: Any, *args: Any, **kwargs: Any) -> None:
        self.run("delete_memoized", lambda: self._cache.delete_memoized(f, *args, **kwargs))

    def delete_memoized_verhash(self, f: Any, *args: Any) -> None:
        self.run("delete_memoized_verhash", lambda: self._cache.delete_memoized_verhash(f, *args))
