"""Types of the decorated functions that :meth:`Cache.cached` and :meth:`Cache.memoize` return."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, Protocol, TypeVar

from .keys import Timeout

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class CachedFunction(Protocol[P, R_co]):
    """A function decorated with :meth:`~dash_quart_caching.Cache.cached`.

    ``make_cache_key(*args, path=None, query_args=None, **view_args)`` builds the key a call
    stores its value under; ``cache_timeout`` may be changed before the first call.
    """

    cache_timeout: Timeout | None
    make_cache_key: Callable[..., str]

    @property
    def uncached(self) -> Callable[P, R_co]: ...

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def __get__(self, instance: Any, owner: type | None = None, /) -> Any: ...


class MemoizedFunction(Protocol[P, R_co]):
    """A function decorated with :meth:`~dash_quart_caching.Cache.memoize`.

    Unlike Flask-Caching, ``make_cache_key`` and ``delete_memoized`` are awaitable: both read
    the function's version from the cache.
    """

    cache_timeout: Timeout | None
    make_cache_key: Callable[..., Awaitable[str]]
    delete_memoized: Callable[[], Awaitable[None]]

    @property
    def uncached(self) -> Callable[P, R_co]: ...

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def __get__(self, instance: Any, owner: type | None = None, /) -> Any: ...
