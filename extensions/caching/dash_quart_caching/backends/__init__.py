"""The async cache backends. ``CACHE_TYPE`` names one of them, or a subclass of BaseCache."""

from __future__ import annotations

from .base import BaseCache as BaseCache
from .filesystem import FileSystemCache as FileSystemCache
from .null import NullCache as NullCache
from .redis import RedisCache as RedisCache
from .simple import SimpleCache as SimpleCache

__all__ = ["BaseCache", "FileSystemCache", "NullCache", "RedisCache", "SimpleCache"]
