"""The async interface every cache backend implements."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..keys import Timeout, normalize_timeout

if TYPE_CHECKING:
    from quart import Quart


class BaseCache:
    """Base class of the async cache backends: Flask-Caching's backend API, awaitable.

    Subclasses override the methods they can do better; the defaults here build the bulk
    operations out of the single-key ones, and behave like a cache that stores nothing.

    :param default_timeout: seconds a value lives when ``set`` is given no timeout; 0 means
        forever.
    :param ignore_delete_many_errors: when False, :meth:`delete_many` raises ``RuntimeError``
        if a key still exists after it was deleted (``CACHE_IGNORE_ERRORS``).

    .. versionadded:: 0.1
    """

    #: Whether values are shared with other processes, so that single-flight needs a lock
    #: in the backend as well as the one in the process.
    shared: bool = False
    #: Whether the backend keeps values at all (False for :class:`NullCache`).
    stores: bool = True

    def __init__(
        self, default_timeout: Timeout = 300, ignore_delete_many_errors: bool = False
    ) -> None:
        self.default_timeout: int = normalize_timeout(default_timeout) or 0
        self.ignore_delete_many_errors = ignore_delete_many_errors

    @classmethod
    def factory(
        cls, app: Quart, config: Mapping[str, Any], args: list[Any], kwargs: dict[str, Any]
    ) -> BaseCache:
        """Create the backend for ``app`` from the resolved ``CACHE_*`` config.

        ``args`` come from ``CACHE_ARGS``; ``kwargs`` hold ``default_timeout``,
        ``ignore_delete_many_errors`` and the items of ``CACHE_OPTIONS``.
        """
        return cls(*args, **kwargs)

    def _timeout(self, timeout: Timeout | None) -> int:
        """Seconds to live for ``set``: the default for None, 0 for forever."""
        if timeout is None:
            return self.default_timeout
        return normalize_timeout(timeout) or 0

    async def get(self, key: str) -> Any:
        """The value stored under ``key``, or None if it is missing or expired."""
        return None

    async def set(self, key: str, value: Any, timeout: Timeout | None = None) -> bool:
        """Store ``value`` under ``key``, replacing any value there."""
        return True

    async def add(self, key: str, value: Any, timeout: Timeout | None = None) -> bool:
        """Like :meth:`set`, but only if ``key`` holds no live value; False otherwise."""
        return True

    async def delete(self, key: str) -> bool:
        """Remove ``key``; whether it existed and was removed."""
        return True

    async def has(self, key: str) -> bool:
        """Whether ``key`` holds a live value, without loading it."""
        return False

    async def clear(self) -> bool:
        """Remove every value this backend stores (within its key prefix, if it has one)."""
        return True

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every key that starts with ``prefix``; how many were removed.

        .. versionadded:: 0.1
        """
        return 0

    async def get_many(self, *keys: str) -> list[Any]:
        return [await self.get(key) for key in keys]

    async def get_dict(self, *keys: str) -> dict[str, Any]:
        return dict(zip(keys, await self.get_many(*keys), strict=True))

    async def set_many(
        self, mapping: Mapping[str, Any], timeout: Timeout | None = None
    ) -> list[str]:
        """Store every item of ``mapping``; the keys that were stored."""
        return [key for key, value in mapping.items() if await self.set(key, value, timeout)]

    async def delete_many(self, *keys: str) -> list[str]:
        """Remove ``keys``; the ones that are gone afterwards."""
        deleted: list[str] = []
        failed: list[str] = []
        for key in keys:
            if await self.delete(key) or not await self.has(key):
                deleted.append(key)
            else:
                failed.append(key)
        if failed and not self.ignore_delete_many_errors:
            raise RuntimeError(f"Failed to delete keys: {failed}")
        return deleted

    async def inc(self, key: str, delta: int = 1) -> int | None:
        """Add ``delta`` to the number under ``key`` (missing counts as 0); the new value."""
        value = (await self.get(key) or 0) + delta
        return value if await self.set(key, value) else None

    async def dec(self, key: str, delta: int = 1) -> int | None:
        """Subtract ``delta`` from the number under ``key``; the new value."""
        return await self.inc(key, -delta)

    async def acquire_lock(self, key: str, token: str, lease: float) -> bool:
        """Take the lock ``key`` for ``lease`` seconds unless another holder has it.

        Single-flight uses it across processes. The lease bounds how long a crashed holder
        can keep the lock.
        """
        return await self.add(key, token, timeout=max(1, math.ceil(lease)))

    async def release_lock(self, key: str, token: str) -> bool:
        """Release the lock ``key`` if ``token`` still holds it."""
        if await self.get(key) == token:
            return await self.delete(key)
        return False

    async def close(self) -> None:
        """Release connections held for the running event loop."""
