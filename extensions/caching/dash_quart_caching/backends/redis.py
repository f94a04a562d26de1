"""A Redis backend on :mod:`redis.asyncio`, shared by every worker and host."""

from __future__ import annotations

import asyncio
import pickle
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..keys import Timeout
from .base import BaseCache

if TYPE_CHECKING:
    from quart import Quart
    from redis.asyncio import Redis

INSTALL_REDIS = "Install the redis extra: pip install 'dash-quart-caching[redis]'"

#: Delete the lock only if the caller's token still holds it.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""

_SCAN_BATCH = 500


def dumps(value: Any) -> bytes:
    """Flask-Caching's Redis format: ints as ASCII (for INCRBY), the rest ``!`` + pickle."""
    if type(value) is int:
        return str(value).encode("ascii")
    return b"!" + pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def loads(value: bytes | str | None) -> Any:
    """The reverse of :func:`dumps`; an unreadable value is a miss."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode("utf-8")
    if value.startswith(b"!"):
        try:
            return pickle.loads(value[1:])
        except Exception:
            return None
    try:
        return int(value)
    except ValueError:
        return value


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


class RedisCache(BaseCache):
    """Values in Redis under ``key_prefix``, through a connection pool per event loop.

    The value format is Flask-Caching's (pickle, with integers kept as plain numbers), so
    :meth:`inc` and :meth:`dec` are atomic ``INCRBY`` calls. Arguments other than the ones
    below go to :class:`redis.asyncio.Redis`; ``url`` wins over ``host`` and ``port``. As
    upstream, ``host`` may also be a ready client (a :class:`redis.asyncio.Redis`), which is
    then used on its own loop and left open.

    .. versionadded:: 0.1
    """

    shared = True

    def __init__(
        self,
        host: Any = "localhost",
        port: int = 6379,
        password: str | None = None,
        db: int = 0,
        default_timeout: Timeout = 300,
        key_prefix: str | None = None,
        ignore_delete_many_errors: bool = False,
        *,
        url: str | None = None,
        **client_options: Any,
    ) -> None:
        super().__init__(default_timeout, ignore_delete_many_errors)
        try:
            import redis.asyncio  # noqa: F401
        except ImportError:
            raise RuntimeError(f"RedisCache needs the redis package. {INSTALL_REDIS}") from None
        if client_options.get("decode_responses"):
            raise ValueError("RedisCache stores bytes: remove decode_responses from CACHE_OPTIONS.")
        self.key_prefix = key_prefix or ""
        self._given: Redis | None = None if isinstance(host, str) else host
        self._url = url
        self._options: dict[str, Any] = {"host": host, "port": port, "db": db, **client_options}
        if password:
            self._options["password"] = password
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Redis] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def factory(
        cls, app: Quart, config: Mapping[str, Any], args: list[Any], kwargs: dict[str, Any]
    ) -> RedisCache:
        kwargs.setdefault("host", config["CACHE_REDIS_HOST"])
        kwargs.setdefault("port", config["CACHE_REDIS_PORT"])
        kwargs.setdefault("db", config["CACHE_REDIS_DB"])
        if config["CACHE_REDIS_PASSWORD"]:
            kwargs.setdefault("password", config["CACHE_REDIS_PASSWORD"])
        if config["CACHE_KEY_PREFIX"]:
            kwargs.setdefault("key_prefix", config["CACHE_KEY_PREFIX"])
        if config["CACHE_REDIS_URL"]:
            kwargs.setdefault("url", config["CACHE_REDIS_URL"])
        return cls(*args, **kwargs)

    @property
    def client(self) -> Redis:
        """The client of the running event loop, created on first use."""
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff

        if self._given is not None:
            return self._given
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            options = dict(self._options)
            # A cache must fail fast: one quick retry, not redis-py's ten with backoff.
            options.setdefault("retry", Retry(ExponentialBackoff(cap=0.05, base=0.01), 1))
            options.setdefault("socket_connect_timeout", 2.0)
            options.setdefault("socket_timeout", 2.0)
            if self._url:
                for name in ("host", "port"):
                    options.pop(name, None)
                client = Redis.from_url(self._url, **options)
            else:
                client = Redis(**options)
            self._clients[loop] = client
        return client

    def _k(self, key: str) -> str:
        return f"{self.key_prefix}{key}"

    async def get(self, key: str) -> Any:
        return loads(await self.client.get(self._k(key)))

    async def get_many(self, *keys: str) -> list[Any]:
        if not keys:
            return []
        return [loads(v) for v in await self.client.mget([self._k(k) for k in keys])]

    async def set(self, key: str, value: Any, timeout: Timeout | None = None) -> bool:
        seconds = self._timeout(timeout)
        result = await self.client.set(self._k(key), dumps(value), ex=seconds or None)
        return bool(result)

    async def add(self, key: str, value: Any, timeout: Timeout | None = None) -> bool:
        seconds = self._timeout(timeout)
        result = await self.client.set(self._k(key), dumps(value), ex=seconds or None, nx=True)
        return bool(result)

    async def set_many(
        self, mapping: Mapping[str, Any], timeout: Timeout | None = None
    ) -> list[str]:
        seconds = self._timeout(timeout)
        pipe = self.client.pipeline(transaction=False)
        for key, value in mapping.items():
            pipe.set(self._k(key), dumps(value), ex=seconds or None)
        results = await pipe.execute()
        return [key for key, ok in zip(mapping, results, strict=True) if ok]

    async def delete(self, key: str) -> bool:
        return bool(await self.client.delete(self._k(key)))

    async def delete_many(self, *keys: str) -> list[str]:
        if not keys:
            return []
        await self.client.delete(*(self._k(k) for k in keys))
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.exists(self._k(key))
        exists = await pipe.execute()
        deleted = [k for k, present in zip(keys, exists, strict=True) if not present]
        if len(deleted) != len(keys) and not self.ignore_delete_many_errors:
            raise RuntimeError(f"Failed to delete keys: {[k for k in keys if k not in deleted]}")
        return deleted

    async def has(self, key: str) -> bool:
        return bool(await self.client.exists(self._k(key)))

    async def clear(self) -> bool:
        if not self.key_prefix:
            return bool(await self.client.flushdb())
        await self.delete_prefix("")
        return True

    async def delete_prefix(self, prefix: str) -> int:
        """``SCAN`` for ``key_prefix + prefix + '*'`` and ``UNLINK`` what it finds."""
        client = self.client
        pattern = _glob_escape(self._k(prefix)) + "*"
        removed = 0
        batch: list[bytes] = []
        async for name in client.scan_iter(match=pattern, count=_SCAN_BATCH):
            batch.append(name)
            if len(batch) >= _SCAN_BATCH:
                removed += await client.unlink(*batch)
                batch.clear()
        if batch:
            removed += await client.unlink(*batch)
        return removed

    async def inc(self, key: str, delta: int = 1) -> int | None:
        return int(await self.client.incrby(self._k(key), delta))

    async def dec(self, key: str, delta: int = 1) -> int | None:
        return int(await self.client.incrby(self._k(key), -delta))

    async def acquire_lock(self, key: str, token: str, lease: float) -> bool:
        """``SET key token NX PX lease``: the lock expires by itself if its holder dies."""
        lease_ms = max(1, int(lease * 1000))
        return bool(await self.client.set(self._k(key), token, nx=True, px=lease_ms))

    async def release_lock(self, key: str, token: str) -> bool:
        """Compare-and-delete in one Lua call, so only the holder can release."""
        return bool(await self.client.eval(_RELEASE, 1, self._k(key), token))

    async def close(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.aclose(close_connection_pool=True)
