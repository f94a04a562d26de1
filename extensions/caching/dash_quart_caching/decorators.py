"""``cached`` and ``memoize``: Flask-Caching's decorators for ``async def`` and ``def``.

An ``async def`` function stays a coroutine function, so Quart and Dash await it as before.
A ``def`` function stays sync: it is meant to run in a worker thread (a sync view or a
sync Dash callback under dash_quart), and it reaches the cache through ``cache.sync``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from quart import request, url_for

from . import engine
from .engine import Options
from .keys import QueryArgs, Timeout, arg_names, query_args_as_pairs
from .typing import CachedFunction, MemoizedFunction, P, R
from .versions import hash_method_of, make_memoize_key, memoize_version, source_check_of

if TYPE_CHECKING:
    from .cache import Cache


def cached(
    self: Cache,
    timeout: Timeout | None = None,
    key_prefix: str | Callable[[], str] = "view/%s",
    unless: Callable[..., Any] | None = None,
    forced_update: Callable[..., Any] | None = None,
    is_stale: Callable[..., Any] | None = None,
    response_filter: Callable[..., Any] | None = None,
    query_string: bool = False,
    hash_method: Callable[..., Any] | None = None,
    cache_none: bool = False,
    make_cache_key: Callable[..., Any] | None = None,
    source_check: bool | None = None,
    response_hit_indication: bool | None = False,
) -> Callable[[Callable[P, R]], CachedFunction[P, R]]:
    """Cache a view (key: ``key_prefix % request.path``) or any function (a fixed prefix).

    The parameters are Flask-Caching's. A view may return a :class:`quart.Response`: its
    body, status and headers are cached and a fresh response is built on every hit. A
    ``werkzeug`` ``HTTPException`` it raises (``abort(404)``) is cached and raised again.
    With ``response_hit_indication``, a response served from the cache has the header
    ``hit_cache: True``.

    .. versionadded:: 0.1
    """

    def decorator(f: Callable[P, R]) -> CachedFunction[P, R]:
        options = Options(
            "cached", f, unless, forced_update, is_stale, response_filter, cache_none
        )
        options.make_key = make_cache_key
        options.hit_indication = bool(response_hit_indication)

        def default_make_cache_key(*args: Any, **kwargs: Any) -> str:
            for name, value in zip(arg_names(f), args, strict=False):
                kwargs[name] = value
            use_request = kwargs.pop("use_request", False)
            path = None if use_request else kwargs.pop("path", None)
            query_args = None if use_request else kwargs.pop("query_args", None)
            return _cached_key(kwargs, use_request, path, query_args)

        def _query_key(path: str | None, query_args: QueryArgs | None) -> str:
            if query_args is None:
                pairs = list(request.args.items(multi=True))
            else:
                pairs = query_args_as_pairs(query_args)
            args_as_bytes = str(tuple(sorted(pairs))).encode()
            cache_hash = hash_method_of(self, hash_method)(args_as_bytes)
            if source_check_of(self, source_check) and callable(f):
                cache_hash.update(inspect.getsource(f).encode("utf-8"))
            digest: str = cache_hash.hexdigest()
            return _prefix(path if path is not None else request.path) + digest

        def _prefix(path: str) -> str:
            if callable(key_prefix):
                return key_prefix()
            if "%s" in key_prefix:
                return key_prefix % path
            return key_prefix

        def _cached_key(
            kwargs: dict[str, Any], use_request: bool, path: str | None, query_args: Any
        ) -> str:
            if query_string:
                return _query_key(path, query_args)
            if callable(key_prefix) or "%s" not in key_prefix:
                cache_key = _prefix("")
            elif path is not None:
                cache_key = key_prefix % path
            elif use_request:
                cache_key = key_prefix % request.path
            else:
                cache_key = key_prefix % url_for(f.__name__, _external=False, **kwargs)
            if source_check_of(self, source_check) and callable(f):
                source = inspect.getsource(f).encode("utf-8")
                cache_key += hash_method_of(self, hash_method)(source).hexdigest()
            return cache_key

        wrapper = engine.wrap(self, options)
        cached_fn = cast("CachedFunction[P, R]", wrapper)
        wrapper.uncached = f  # type: ignore[attr-defined]
        cached_fn.cache_timeout = timeout
        cached_fn.make_cache_key = default_make_cache_key
        return cached_fn

    return decorator


def memoize(
    self: Cache,
    timeout: Timeout | None = None,
    make_name: Callable[[str], str] | None = None,
    unless: Callable[..., Any] | None = None,
    forced_update: Callable[..., Any] | None = None,
    is_stale: Callable[..., Any] | None = None,
    response_filter: Callable[..., Any] | None = None,
    hash_method: Callable[..., Any] | None = None,
    cache_none: bool = False,
    source_check: bool | None = None,
    args_to_ignore: list[str] | None = None,
) -> Callable[[Callable[P, R]], MemoizedFunction[P, R]]:
    """Cache a function's result per arguments, as Flask-Caching's ``memoize`` does.

    Place it under ``@callback`` / ``@app.callback`` to memoize a Dash callback: the wrapper
    keeps the function's name and signature, and dict or list arguments (pattern-matching
    ids, ``ALL`` values) give stable keys. ``await f.delete_memoized()`` and
    ``await f.make_cache_key(f.uncached, *args)`` are awaitable.

    .. versionadded:: 0.1
    """

    def decorator(f: Callable[P, R]) -> MemoizedFunction[P, R]:
        options = Options(
            "memoize", f, unless, forced_update, is_stale, response_filter, cache_none
        )
        options.args_to_ignore = args_to_ignore
        options.make_key = make_memoize_key(
            self, make_name, hash_method, source_check, args_to_ignore
        )
        wrapper = engine.wrap(self, options)
        memoized_fn = cast("MemoizedFunction[P, R]", wrapper)
        wrapper.uncached = f  # type: ignore[attr-defined]
        memoized_fn.cache_timeout = timeout
        memoized_fn.make_cache_key = options.make_key
        memoized_fn.delete_memoized = lambda: delete_memoized(self, memoized_fn)
        return memoized_fn

    return decorator


async def delete_memoized(self: Cache, f: Any, *args: Any, **kwargs: Any) -> None:
    """Forget a memoized function's values: all of them, or those of one set of arguments.

    Without arguments the function gets a new version, so its old keys are never read again
    (they expire on their own). A bound method forgets only its instance's values.

    .. versionadded:: 0.1
    """
    if not callable(f):
        raise TypeError(
            "Deleting messages by relative name is not supported, please use a function "
            "reference."
        )
    if not (args or kwargs):
        await memoize_version(self, f, reset=True)
        return
    args = _ensure_self_arg(f, args)
    await self.delete(await f.make_cache_key(f.uncached, *args, **kwargs))


def _ensure_self_arg(f: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Supply the instance when a bound method is passed, as Flask-Caching 2.5 does."""
    instance = getattr(f, "__self__", None)
    if instance is None or inspect.isclass(instance):
        return args
    names = arg_names(f.uncached)
    if not names or names[0] != "self" or (args and args[0] is instance):
        return args
    return (instance, *args)


async def delete_memoized_verhash(self: Cache, f: Any, *args: Any) -> None:
    """Delete the version of a memoized function; its keys become unreachable.

    .. versionadded:: 0.1
    """
    if not callable(f):
        raise TypeError(
            "Deleting messages by relative name is not supported, please use a function "
            "reference."
        )
    await memoize_version(self, f, delete=True)
