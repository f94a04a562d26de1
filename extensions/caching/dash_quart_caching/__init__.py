"""The Flask-Caching API for Quart and Dash, made async.

::

    from dash_quart_caching import Cache

    cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})

    @cache.memoize(timeout=60)
    async def report(region): ...
"""

from __future__ import annotations

from .backends import BaseCache as BaseCache
from .backends import FileSystemCache as FileSystemCache
from .backends import NullCache as NullCache
from .backends import RedisCache as RedisCache
from .backends import SimpleCache as SimpleCache
from .cache import Cache as Cache
from .config import DEFAULTS as DEFAULTS
from .responses import CachedResponse as CachedResponse
from .sync import LoopThreadError as LoopThreadError
from .sync import SyncCache as SyncCache
from .typing import CachedFunction as CachedFunction
from .typing import MemoizedFunction as MemoizedFunction

__version__ = "0.1.0"

__all__ = [
    "DEFAULTS",
    "BaseCache",
    "Cache",
    "CachedFunction",
    "CachedResponse",
    "FileSystemCache",
    "LoopThreadError",
    "MemoizedFunction",
    "NullCache",
    "RedisCache",
    "SimpleCache",
    "SyncCache",
]
