"""Configuration keys, their defaults, and how ``CACHE_TYPE`` names a backend."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Mapping
from typing import Any

#: Every key can be set in ``app.config`` or in the ``config`` passed to :class:`Cache`. The
#: package README renders this table; keep the two in step.
DEFAULTS: dict[str, Any] = {
    # Flask-Caching's keys, with Flask-Caching's defaults.
    "CACHE_TYPE": "NullCache",
    "CACHE_DEFAULT_TIMEOUT": 300,
    "CACHE_KEY_PREFIX": "flask_cache_",
    "CACHE_THRESHOLD": 500,
    "CACHE_DIR": None,
    "CACHE_REDIS_URL": None,
    "CACHE_REDIS_HOST": "localhost",
    "CACHE_REDIS_PORT": 6379,
    "CACHE_REDIS_DB": 0,
    "CACHE_REDIS_PASSWORD": None,
    "CACHE_OPTIONS": None,
    "CACHE_ARGS": (),
    "CACHE_IGNORE_ERRORS": False,
    "CACHE_SOURCE_CHECK": False,
    "CACHE_NO_NULL_WARNING": False,
    "CACHE_HASH_METHOD": hashlib.sha256,
    "CACHE_FILE_HASH_METHOD": hashlib.sha256,
    # Additions of dash-quart-caching.
    "CACHE_SINGLE_FLIGHT": True,
    "CACHE_LOCK_TIMEOUT": 30.0,
    "CACHE_JITTER": 0.0,
    "CACHE_FAIL_OPEN": True,
    "CACHE_SYNC_TIMEOUT": 30.0,
}

#: ``CACHE_TYPE`` names of the built-in backends, upstream spelling and lowercase alias.
BACKENDS: dict[str, str] = {
    "NullCache": "dash_quart_caching.backends.null.NullCache",
    "SimpleCache": "dash_quart_caching.backends.simple.SimpleCache",
    "FileSystemCache": "dash_quart_caching.backends.filesystem.FileSystemCache",
    "RedisCache": "dash_quart_caching.backends.redis.RedisCache",
    "null": "dash_quart_caching.backends.null.NullCache",
    "simple": "dash_quart_caching.backends.simple.SimpleCache",
    "filesystem": "dash_quart_caching.backends.filesystem.FileSystemCache",
    "redis": "dash_quart_caching.backends.redis.RedisCache",
}

_SYNC_PACKAGES = ("flask_caching.", "cachelib.")


def resolve_config(
    app_config: Mapping[str, Any], *overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Merge ``app.config`` with the ``config`` mappings given to :class:`Cache`, later winning.

    Only ``CACHE_*`` keys are kept; ``app.config`` itself is never changed.
    """
    config = {key: app_config.get(key, default) for key, default in DEFAULTS.items()}
    config.update((k, v) for k, v in app_config.items() if k.startswith("CACHE_"))
    for override in overrides:
        if override:
            config.update(override)
    return config


def import_backend(cache_type: Any) -> Any:
    """Return the backend class or factory that ``CACHE_TYPE`` names.

    ``cache_type`` is a built-in name (see :data:`BACKENDS`), a dotted path
    ``"package.module.Class"`` to an async backend, or the class itself.
    """
    if not isinstance(cache_type, str):
        return cache_type
    path = BACKENDS.get(cache_type, cache_type)
    if path.startswith(_SYNC_PACKAGES):
        name = path.rsplit(".", 1)[-1]
        hint = f"CACHE_TYPE = {name!r}" if name in BACKENDS else "one of " + _choices()
        raise ValueError(
            f"CACHE_TYPE {cache_type!r} is a synchronous Flask-Caching backend; "
            f"dash-quart-caching needs an async one. Set {hint}."
        )
    if "." not in path:
        raise ValueError(
            f"Unknown CACHE_TYPE {cache_type!r}. Set it to one of {_choices()}, or to the "
            "dotted path of a subclass of dash_quart_caching.backends.BaseCache."
        )
    module_name, _, attr = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(
            f"CACHE_TYPE {cache_type!r} cannot be imported ({error}). Check the dotted path "
            f"or set one of {_choices()}."
        ) from error
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ValueError(
            f"CACHE_TYPE {cache_type!r}: module {module_name!r} has no attribute {attr!r}."
        ) from None


def _choices() -> str:
    return ", ".join(repr(name) for name in BACKENDS)
