"""The :class:`Cache` extension: Flask-Caching's ``Cache``, with an awaitable API."""

from __future__ import annotations

import asyncio
import inspect
import math
import random
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from quart import Quart, appcontext_pushed, current_app, has_app_context

from . import decorators
from .backends.base import BaseCache
from .config import import_backend, resolve_config
from .dash_glue import server_of
from .keys import QueryArgs, Timeout
from .singleflight import SingleFlight
from .sync import SyncCache

#: ``app.extensions[EXTENSION_KEY]`` maps each :class:`Cache` to its backend, as upstream.
EXTENSION_KEY = "cache"
#: ``app.extensions[STATE_KEY]`` maps each :class:`Cache` to its :class:`CacheState`.
STATE_KEY = "dash_quart_caching"


class CacheState:
    """What one :class:`Cache` keeps per app: backend, resolved config, loop, flights."""

    def __init__(self, backend: BaseCache, config: Mapping[str, Any]) -> None:
        self.backend = backend
        self.config = dict(config)
        self.fail_open = bool(config["CACHE_FAIL_OPEN"])
        self.jitter = float(config["CACHE_JITTER"])
        self.hash_method: Callable[..., Any] = config["CACHE_HASH_METHOD"]
        self.source_check = bool(config["CACHE_SOURCE_CHECK"])
        self.sync_timeout: float | None = config["CACHE_SYNC_TIMEOUT"]
        self.flights = SingleFlight(
            backend, enabled=bool(config["CACHE_SINGLE_FLIGHT"]), lease=config["CACHE_LOCK_TIMEOUT"]
        )
        #: The server's event loop, where ``cache.sync`` runs its calls.
        self.loop: asyncio.AbstractEventLoop | None = None

    def jittered(self, timeout: int | None) -> int | None:
        """``timeout`` plus up to ``CACHE_JITTER`` of itself, so that keys expire apart."""
        if self.jitter <= 0:
            return timeout
        base = self.backend.default_timeout if timeout is None else timeout
        if base <= 0:
            return timeout
        return math.ceil(base * (1 + random.uniform(0, self.jitter)))


async def _capture_loop(sender: Quart, **extra: Any) -> None:
    """Remember the loop an app context was pushed on: ``cache.sync`` runs its calls there."""
    loop = asyncio.get_running_loop()
    for state in sender.extensions.get(STATE_KEY, {}).values():
        state.loop = loop


class Cache:
    """Caching for a Quart app (or a Dash app on Quart) with Flask-Caching's API, awaitable.

    ::

        cache = Cache(app, config={"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url})

        @cache.memoize(timeout=60)
        async def report(region): ...

        await cache.set("greeting", "hello")
        cache.sync.get("greeting")          # from sync code in a worker thread

    The configuration is read from ``app.config``, then the ``config`` given here, then the
    one given to :meth:`init_app`; see :data:`~dash_quart_caching.DEFAULTS`. One instance can
    serve several apps and an app can have several instances.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        app: Any = None,
        with_jinja2_ext: bool | dict[str, Any] = True,
        config: dict[str, Any] | None = None,
    ) -> None:
        # Flask-Caching's signature, so that Cache(app, False, config) ports unchanged.
        # There is no Jinja extension to install; ``with_jinja2_ext`` is accepted and unused.
        # A dict in its place is a config given positionally, as in Cache(app, {...}).
        if isinstance(with_jinja2_ext, dict):
            if config is not None:
                raise TypeError("Cache() got two configs: pass config= only once.")
            config = with_jinja2_ext
        elif not isinstance(with_jinja2_ext, bool):
            raise TypeError(
                f"with_jinja2_ext must be a bool, not {type(with_jinja2_ext).__name__}."
            )
        if not (config is None or isinstance(config, dict)):
            raise ValueError("`config` must be an instance of dict or None")
        self.config = config
        #: The blocking API, for sync code in a worker thread.
        self.sync = SyncCache(self)
        if app is not None:
            self.init_app(app, config)

    def init_app(self, app: Any, config: dict[str, Any] | None = None) -> None:
        """Create this cache's backend for ``app`` (a Quart app or a Dash app on Quart)."""
        if not (config is None or isinstance(config, dict)):
            raise ValueError("`config` must be an instance of dict or None")
        server = server_of(app)
        resolved = resolve_config(server.config, self.config, config)
        cache_type = resolved["CACHE_TYPE"]
        if cache_type in ("NullCache", "null") and not resolved["CACHE_NO_NULL_WARNING"]:
            warnings.warn(
                "dash-quart-caching: CACHE_TYPE is set to NullCache, caching is effectively "
                "disabled. Set CACHE_TYPE, or CACHE_NO_NULL_WARNING = True.",
                stacklevel=2,
            )
        if not callable(resolved["CACHE_HASH_METHOD"]):
            raise ValueError(
                "CACHE_HASH_METHOD must be a hash constructor, for example hashlib.sha256, "
                f"not {resolved['CACHE_HASH_METHOD']!r}"
            )
        state = CacheState(self._make_backend(server, resolved), resolved)
        states: dict[Cache, CacheState] = server.extensions.setdefault(STATE_KEY, {})
        first = self not in states
        states[self] = state
        server.extensions.setdefault(EXTENSION_KEY, {})[self] = state.backend
        if first:
            self._install_hooks(server)

    @staticmethod
    def _make_backend(server: Quart, config: dict[str, Any]) -> BaseCache:
        factory = import_backend(config["CACHE_TYPE"])
        args = list(config["CACHE_ARGS"] or ())
        kwargs: dict[str, Any] = {
            "default_timeout": config["CACHE_DEFAULT_TIMEOUT"],
            "ignore_delete_many_errors": config["CACHE_IGNORE_ERRORS"],
            **(config["CACHE_OPTIONS"] or {}),
        }
        if inspect.isclass(factory) and issubclass(factory, BaseCache):
            backend = factory.factory(server, config, args, kwargs)
        elif callable(factory) and not inspect.isclass(factory):
            backend = factory(server, config, args, kwargs)
        else:
            backend = None
        if not isinstance(backend, BaseCache):
            raise TypeError(
                f"CACHE_TYPE {config['CACHE_TYPE']!r} is not an async backend: subclass "
                "dash_quart_caching.backends.BaseCache, or name a factory that returns one."
            )
        return backend

    def _install_hooks(self, server: Quart) -> None:
        """Note the loop of every app context pushed, for ``cache.sync``; close on shutdown."""
        appcontext_pushed.connect(_capture_loop, sender=server)

        async def _close() -> None:
            state: CacheState | None = server.extensions.get(STATE_KEY, {}).get(self)
            if state is not None:
                await state.backend.close()

        server.after_serving(_close)

    def _state(self) -> CacheState:
        if not has_app_context():
            raise RuntimeError(
                "The cache is reached through the current app: call it while handling a "
                "request, or inside `async with app.app_context():`."
            )
        state: CacheState | None = current_app.extensions.get(STATE_KEY, {}).get(self)
        if state is None:
            raise RuntimeError(
                f"This Cache is not set up for app {current_app.name!r}: call "
                "cache.init_app(app) first."
            )
        return state

    def _live_state(self) -> CacheState:
        """The state, noting the running loop as the one ``cache.sync`` should use."""
        state = self._state()
        state.loop = asyncio.get_running_loop()
        return state

    @property
    def cache(self) -> BaseCache:
        """The backend of the current app, for what :class:`Cache` does not proxy."""
        return self._state().backend

    async def get(self, key: str) -> Any:
        return await self._live_state().backend.get(key)

    async def has(self, key: str) -> bool:
        return await self._live_state().backend.has(key)

    async def set(self, key: str, value: Any, timeout: Timeout | None = None) -> bool:
        return await self._live_state().backend.set(key, value, timeout)

    async def add(self, key: str, value: Any, timeout: Timeout | None = None) -> bool:
        return await self._live_state().backend.add(key, value, timeout)

    async def delete(self, key: str) -> bool:
        return await self._live_state().backend.delete(key)

    async def delete_many(self, *keys: str) -> list[str]:
        return await self._live_state().backend.delete_many(*keys)

    async def unlink(self, *keys: str) -> list[str]:
        """Flask-Caching's name for :meth:`delete_many` that frees memory lazily on Redis."""
        return await self.delete_many(*keys)

    async def clear(self) -> bool:
        return await self._live_state().backend.clear()

    async def get_many(self, *keys: str) -> list[Any]:
        return await self._live_state().backend.get_many(*keys)

    async def set_many(
        self, mapping: Mapping[str, Any], timeout: Timeout | None = None
    ) -> list[str]:
        return await self._live_state().backend.set_many(mapping, timeout)

    async def get_dict(self, *keys: str) -> dict[str, Any]:
        return await self._live_state().backend.get_dict(*keys)

    async def inc(self, key: str, delta: int = 1) -> int | None:
        return await self._live_state().backend.inc(key, delta)

    async def dec(self, key: str, delta: int = 1) -> int | None:
        return await self._live_state().backend.dec(key, delta)

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix``, e.g. ``"report/"``; how many went.

        Keys are matched as the decorators or :meth:`set` wrote them: a ``cached`` view's
        ``key_prefix`` is a good handle, while memoized keys are hashes (use
        :meth:`delete_memoized` for those).

        .. versionadded:: 0.1
        """
        return await self._live_state().backend.delete_prefix(prefix)

    async def close(self) -> None:
        """Close the backend's connections of the running loop (done when the app stops)."""
        await self._state().backend.close()

    cached = decorators.cached
    memoize = decorators.memoize
    delete_memoized = decorators.delete_memoized
    delete_memoized_verhash = decorators.delete_memoized_verhash

    async def delete_cached(
        self, f: Any, path: str | None = None, query_args: QueryArgs | None = None, **kwargs: Any
    ) -> bool:
        """Delete what a :meth:`cached` function stored for ``path`` (and ``query_args``).

        .. versionadded:: 0.1
        """
        return await self.delete(f.make_cache_key(path=path, query_args=query_args, **kwargs))
