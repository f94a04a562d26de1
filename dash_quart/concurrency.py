"""Run blocking code off the event loop, in a bounded pool, with context preserved."""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from typing import Any, ParamSpec, TypeVar

from .config import DEFAULTS
from .requests import preload_body

P = ParamSpec("P")
T = TypeVar("T")

_fallback_lock = threading.Lock()
_fallback_pool: ThreadPoolExecutor | None = None


def sync_workers(config: Any = None) -> int:
    """Return the configured pool size.

    The ``DASH_QUART_SYNC_WORKERS`` environment variable wins over the app config key of the
    same name, so that an operator can resize a deployed app without touching its code.
    """
    raw: Any = os.environ.get("DASH_QUART_SYNC_WORKERS")
    if raw is None and config is not None:
        raw = config.get("DASH_QUART_SYNC_WORKERS")
    if raw is None:
        raw = DEFAULTS["DASH_QUART_SYNC_WORKERS"]
    try:
        workers = int(raw)
    except (TypeError, ValueError):
        raise ValueError(
            f"DASH_QUART_SYNC_WORKERS must be a positive integer, got {raw!r}."
        ) from None
    if workers < 1:
        raise ValueError(f"DASH_QUART_SYNC_WORKERS must be a positive integer, got {workers}.")
    return workers


def make_pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dash-quart-sync")


def _fallback() -> ThreadPoolExecutor:
    global _fallback_pool
    with _fallback_lock:
        if _fallback_pool is None:
            _fallback_pool = make_pool(sync_workers())
        return _fallback_pool


def current_pool() -> ThreadPoolExecutor:
    """The pool of the Quart app in context, or a process-wide pool outside of one."""
    from quart import current_app, has_app_context

    if has_app_context():
        state = current_app.extensions.get("dash_quart")
        if state is not None:
            pool: ThreadPoolExecutor = state.pool
            return pool
    return _fallback()


async def run_in_pool(
    pool: ThreadPoolExecutor, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run ``func`` in ``pool`` under a copy of the current context and await its result."""
    loop = asyncio.get_running_loop()
    call = functools.partial(func, *args, **kwargs)
    return await loop.run_in_executor(pool, copy_context().run, call)


async def run_sync(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Await a blocking function without blocking the event loop.

    ``func`` runs in the same bounded thread pool as sync Dash callbacks, with the current
    :mod:`contextvars` copied, so Quart's ``request``, ``g`` and Dash's ``callback_context``
    keep working inside it, and :data:`dash_quart.request` gives sync access to the body::

        rows = await dash_quart.run_sync(slow_query, 42)

    .. versionadded:: 0.1
    """
    if inspect.iscoroutinefunction(func):
        raise TypeError(
            f"run_sync() runs blocking functions; {func.__qualname__} is 'async def', "
            "await it directly instead."
        )
    await preload_body()
    return await run_in_pool(current_pool(), func, *args, **kwargs)


def ensure_async_in(
    pool: Callable[[], ThreadPoolExecutor], func: Callable[..., Any]
) -> Callable[..., Awaitable[Any]]:
    """Wrap ``func`` so that it is awaitable and never blocks the loop.

    ``async def`` functions are returned unchanged. A sync function whose wrapped original is
    ``async def`` (a decorator that forgot to be async) is called on the loop and its
    coroutine awaited. Any other sync function runs in the pool that ``pool()`` returns.
    """
    if inspect.iscoroutinefunction(func):
        return func
    if inspect.iscoroutinefunction(inspect.unwrap(func)):

        @functools.wraps(func)
        async def _await_result(*args: Any, **kwargs: Any) -> Any:
            result = func(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result

        return _await_result

    @functools.wraps(func)
    async def _in_pool(*args: Any, **kwargs: Any) -> Any:
        await preload_body()
        result = await run_in_pool(pool(), func, *args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    return _in_pool
