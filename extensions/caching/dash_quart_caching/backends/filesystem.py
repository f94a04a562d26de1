"""A backend of files in one directory, shared by the processes of one host."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import pickle
import struct
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import aiofiles
import aiofiles.os

from ..keys import Timeout
from .base import BaseCache

if TYPE_CHECKING:
    from quart import Quart

logger = logging.getLogger("dash_quart_caching")

_MAGIC = b"DQC1"
_HEADER = struct.Struct("<dI")  # expiry (epoch seconds, 0 = never), length of the key
_HEADER_SIZE = len(_MAGIC) + _HEADER.size
_TMP_SUFFIX = ".__dqc_tmp"
_chmod = aiofiles.os.wrap(os.chmod)


class _Entry:
    __slots__ = ("expires", "key", "payload")

    def __init__(self, expires: float, key: str, payload: bytes) -> None:
        self.expires = expires
        self.key = key
        self.payload = payload

    def live(self, now: float) -> bool:
        return self.expires == 0 or self.expires > now


class FileSystemCache(BaseCache):
    """One file per key in ``cache_dir``, read and written with :mod:`aiofiles`.

    A value is written to a temporary file and moved into place with :func:`os.replace`, so
    a reader sees the old value or the new one, never half of one; :meth:`add` links the file
    into place, so it is atomic across processes. Values survive a restart. A corrupt or
    truncated file is a miss, never an error. The directory must belong to the cache alone.

    .. versionadded:: 0.1
    """

    shared = True

    def __init__(
        self,
        cache_dir: str | os.PathLike[str],
        threshold: int = 500,
        default_timeout: Timeout = 300,
        mode: int = 0o600,
        hash_method: Callable[..., Any] = hashlib.sha256,
        ignore_delete_many_errors: bool = False,
    ) -> None:
        super().__init__(default_timeout, ignore_delete_many_errors)
        self._dir = os.fspath(cache_dir)
        self._threshold = threshold
        self._mode = mode
        self._hash_method = hash_method
        self._count: int | None = None
        self._inc_lock = asyncio.Lock()
        os.makedirs(self._dir, exist_ok=True)

    @classmethod
    def factory(
        cls, app: Quart, config: Mapping[str, Any], args: list[Any], kwargs: dict[str, Any]
    ) -> FileSystemCache:
        if config["CACHE_DIR"] is None and not args and "cache_dir" not in kwargs:
            raise ValueError(
                "FileSystemCache needs a directory: set CACHE_DIR, for example "
                "app.config['CACHE_DIR'] = '/var/cache/myapp'."
            )
        if not args and "cache_dir" not in kwargs:
            args = [config["CACHE_DIR"], *args]
        kwargs.setdefault("threshold", config["CACHE_THRESHOLD"])
        kwargs.setdefault("hash_method", config["CACHE_FILE_HASH_METHOD"])
        return cls(*args, **kwargs)

    def _path(self, key: str) -> str:
        return os.path.join(self._dir, self._hash_method(key.encode("utf-8")).hexdigest())

    def _expires(self, timeout: Timeout | None) -> float:
        seconds = self._timeout(timeout)
        return time.time() + seconds if seconds > 0 else 0.0

    async def _read(self, path: str, *, payload: bool = True) -> _Entry | None:
        """The entry in ``path``; None if it is missing, truncated or not ours."""
        try:
            async with aiofiles.open(path, "rb") as file:
                head = await file.read(_HEADER_SIZE)
                if len(head) < _HEADER_SIZE or not head.startswith(_MAGIC):
                    return None
                expires, key_size = _HEADER.unpack(head[len(_MAGIC) :])
                raw_key = await file.read(key_size)
                body = await file.read() if payload else b""
        except FileNotFoundError:
            return None
        except OSError:
            logger.warning("Cannot read cache file %s", path, exc_info=True)
            return None
        if len(raw_key) < key_size:
            return None
        try:
            return _Entry(expires, raw_key.decode("utf-8"), body)
        except UnicodeDecodeError:
            return None

    async def _entry(self, key: str, *, payload: bool = True) -> _Entry | None:
        entry = await self._read(self._path(key), payload=payload)
        if entry is None or entry.key != key or not entry.live(time.time()):
            return None
        return entry

    async def _write_tmp(self, key: str, value: Any, timeout: Timeout | None) -> str:
        raw_key = key.encode("utf-8")
        data = b"".join(
            (
                _MAGIC,
                _HEADER.pack(self._expires(timeout), len(raw_key)),
                raw_key,
                pickle.dumps(value, pickle.HIGHEST_PROTOCOL),
            )
        )
        tmp = os.path.join(self._dir, f"{uuid.uuid4().hex}{_TMP_SUFFIX}")
        async with aiofiles.open(tmp, "xb") as file:
            await file.write(data)
        await _chmod(tmp, self._mode)
        return tmp

    async def _files(self) -> list[str]:
        names = await aiofiles.os.listdir(self._dir)
        return [os.path.join(self._dir, n) for n in names if not n.endswith(_TMP_SUFFIX)]

    async def _remove(self, path: str) -> bool:
        try:
            await aiofiles.os.remove(path)
        except FileNotFoundError:
            return False
        if self._count is not None:
            self._count -= 1
        return True

    async def _prune(self) -> None:
        if self._threshold == 0:
            return
        if self._count is None:
            self._count = len(await self._files())
        if self._count < self._threshold:
            return
        now = time.time()
        entries: list[tuple[float, str]] = []
        for path in await self._files():
            entry = await self._read(path, payload=False)
            if entry is None or not entry.live(now):
                await self._remove(path)
            else:
                entries.append((entry.expires or float("inf"), path))
        entries.sort()
        for _, path in entries[: max(0, len(entries) - self._threshold + 1)]:
            await self._remove(path)
        self._count = len(await self._files())

    async def get(self, key: str) -> Any:
        entry = await self._entry(key)
        if entry is None:
            return None
        try:
            return pickle.loads(entry.payload)
        except Exception:
            logger.warning("Cache file for %r is corrupt; treating it as a miss", key)
            return None

    async def has(self, key: str) -> bool:
        return await self._entry(key, payload=False) is not None

    async def set(self, key: str, value: Any, timeout: Timeout | None = None) -> bool:
        path = self._path(key)
        existed = await aiofiles.os.path.exists(path)
        if not existed:
            await self._prune()
        tmp = await self._write_tmp(key, value, timeout)
        await aiofiles.os.replace(tmp, path)
        if not existed and self._count is not None:
            self._count += 1
        return True

    async def add(self, key: str, value: Any, timeout: Timeout | None = None) -> bool:
        path = self._path(key)
        await self._prune()
        tmp = await self._write_tmp(key, value, timeout)
        try:
            try:
                await aiofiles.os.link(tmp, path)
            except FileExistsError:
                current = await self._read(path, payload=False)
                if current is not None and current.live(time.time()):
                    return False
                await aiofiles.os.replace(tmp, path)
                return True
            if self._count is not None:
                self._count += 1
            return True
        finally:
            await self._remove_tmp(tmp)

    async def _remove_tmp(self, tmp: str) -> None:
        try:
            await aiofiles.os.remove(tmp)
        except FileNotFoundError:
            pass

    async def delete(self, key: str) -> bool:
        return await self._remove(self._path(key))

    async def clear(self) -> bool:
        for path in await self._files():
            await self._remove(path)
        self._count = 0
        return True

    async def delete_prefix(self, prefix: str) -> int:
        removed = 0
        for path in await self._files():
            entry = await self._read(path, payload=False)
            if entry is not None and entry.key.startswith(prefix) and await self._remove(path):
                removed += 1
        return removed

    async def inc(self, key: str, delta: int = 1) -> int | None:
        async with self._inc_lock:
            return await super().inc(key, delta)
