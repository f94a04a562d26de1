"""An in-memory backend for one process."""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..keys import Timeout
from .base import BaseCache

if TYPE_CHECKING:
    from quart import Quart


class SimpleCache(BaseCache):
    """Values in a dict of this process, pickled so that callers never share one object.

    Every method runs to completion without awaiting, under a :class:`threading.Lock`, so
    the cache is consistent under any mix of tasks and threads; :meth:`add` and :meth:`inc`
    are atomic. When more than ``threshold`` items are stored, expired items go first, then
    the ones closest to expiring.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        threshold: int = 500,
        default_timeout: Timeout = 300,
        ignore_delete_many_errors: bool = False,
    ) -> None:
        super().__init__(default_timeout, ignore_delete_many_errors)
        self._threshold = threshold or 500
        self._items: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    @classmethod
    def factory(
        cls, app: Quart, config: Mapping[str, Any], args: list[Any], kwargs: dict[str, Any]
    ) -> SimpleCache:
        kwargs.setdefault("threshold", config["CACHE_THRESHOLD"])
        return cls(*args, **kwargs)

    def _expires(self, timeout: Timeout | None) -> float:
        seconds = self._timeout(timeout)
        return time.monotonic() + seconds if seconds > 0 else 0.0

    @staticmethod
    def _live(expires: float, now: float) -> bool:
        return expires == 0 or expires > now

    def _prune(self) -> None:
        if len(self._items) < self._threshold:
            return
        now = time.monotonic()
        for key in [k for k, (expires, _) in self._items.items() if not self._live(expires, now)]:
            del self._items[key]
        if len(self._items) >= self._threshold:
            by_expiry = sorted(self._items, key=lambda k: self._items[k][0] or float("inf"))
            for key in by_expiry[: len(self._items) - self._threshold + 1]:
                del self._items[key]

    def _load(self, key: str) -> tuple[bool, Any]:
        item = self._items.get(key)
        if item is None or not self._live(item[0], time.monotonic()):
            return False, None
        return True, pickle.loads(item[1])

    def _store(self, key: str, value: Any, timeout: Timeout | None) -> None:
        payload = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        if key not in self._items:
            self._prune()
        self._items[key] = (self._expires(timeout), payload)

    async def get(self, key: str) -> Any:
        with self._lock:
            return self._load(key)[1]

    async def set(self, key: str, value: Any, timeout: Timeout | None = None) -> bool:
        with self._lock:
            self._store(key, value, timeout)
            return True

    async def add(self, key: str, value: Any, timeout: Timeout | None = None) -> bool:
        with self._lock:
            item = self._items.get(key)
            if item is not None and self._live(item[0], time.monotonic()):
                return False
            self._store(key, value, timeout)
            return True

    async def delete(self, key: str) -> bool:
        with self._lock:
            return self._items.pop(key, None) is not None

    async def has(self, key: str) -> bool:
        with self._lock:
            item = self._items.get(key)
            return item is not None and self._live(item[0], time.monotonic())

    async def clear(self) -> bool:
        with self._lock:
            self._items.clear()
            return True

    async def delete_prefix(self, prefix: str) -> int:
        with self._lock:
            doomed = [key for key in self._items if key.startswith(prefix)]
            for key in doomed:
                del self._items[key]
            return len(doomed)

    async def inc(self, key: str, delta: int = 1) -> int | None:
        with self._lock:
            found, value = self._load(key)
            new = (value or 0) + delta
            if found:
                self._items[key] = (self._items[key][0], pickle.dumps(new))
            else:
                self._store(key, new, None)
            return int(new)
