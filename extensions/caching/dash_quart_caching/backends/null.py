"""A backend that stores nothing: every lookup is a miss."""

from __future__ import annotations

from .base import BaseCache


class NullCache(BaseCache):
    """A cache that doesn't cache, for tests and for turning caching off by configuration.

    It is the default ``CACHE_TYPE``, as in Flask-Caching, and :class:`~dash_quart_caching.Cache`
    warns when it is configured, unless ``CACHE_NO_NULL_WARNING`` is True.

    .. versionadded:: 0.1
    """

    stores = False
