"""The versions of memoized functions, and the keys built from them (Flask-Caching's scheme).

A memoized function's keys end with its version, a short random string kept in the cache
under ``<module>.<qualname>_memver`` (and, for a method, one per instance as well).
Deleting all of a function's values just replaces the version.
"""

from __future__ import annotations

import base64
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .keys import function_namespace, make_version_hash, memoize_kwargs_to_args

if TYPE_CHECKING:
    from .cache import Cache

#: A memoized function's version keys never expire until its first value is stored.
VERSION_TIMEOUT = 0


def hash_method_of(cache: Cache, hash_method: Callable[..., Any] | None) -> Callable[..., Any]:
    """The decorator's ``hash_method``, else ``CACHE_HASH_METHOD``."""
    if hash_method is not None:
        return hash_method
    return cache._state().hash_method


def source_check_of(cache: Cache, source_check: bool | None) -> bool:
    """The decorator's ``source_check``, else ``CACHE_SOURCE_CHECK``."""
    return cache._state().source_check if source_check is None else source_check


def _memvname(funcname: str) -> str:
    return funcname + "_memver"


async def memoize_version(
    self: Cache,
    f: Callable[..., Any],
    args: Any = None,
    kwargs: Any = None,
    reset: bool = False,
    delete: bool = False,
    refresh: bool = False,
    timeout: int | None = VERSION_TIMEOUT,
    args_to_ignore: list[str] | None = None,
) -> tuple[str, str | None]:
    """The namespace of ``f`` and its version, created if missing, as upstream does.

    Missing versions are created with ``add``, so that concurrent first calls, even in other
    processes, agree on one version instead of each writing its own.
    """
    backend = self._live_state().backend
    fname, instance_fname = function_namespace(f, args=args)
    fetch_keys = [_memvname(fname)]
    if "self" in (args_to_ignore or []):
        instance_fname = None
    if instance_fname:
        fetch_keys.append(_memvname(instance_fname))
    if delete:
        await backend.delete_many(fetch_keys[-1])
        return fname, None
    if reset:
        version = make_version_hash()
        await backend.set_many({fetch_keys[-1]: version}, timeout=timeout)
        return fname, version
    versions = list(await backend.get_many(*fetch_keys))
    for i, value in enumerate(versions):
        if value is None:
            candidate = make_version_hash()
            if await backend.add(fetch_keys[i], candidate, timeout=timeout):
                versions[i] = candidate
            else:
                versions[i] = await backend.get(fetch_keys[i]) or candidate
    if refresh:
        await backend.set_many(dict(zip(fetch_keys, versions, strict=True)), timeout=timeout)
    return fname, "".join(versions)


def make_memoize_key(
    self: Cache,
    make_name: Callable[[str], str] | None,
    hash_method: Callable[..., Any] | None,
    source_check: bool | None,
    args_to_ignore: list[str] | None,
) -> Callable[..., Any]:
    async def make_cache_key(f: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
        fname, version_data = await memoize_version(
            self, f, args=args, kwargs=kwargs, args_to_ignore=args_to_ignore
        )
        altfname = make_name(fname) if callable(make_name) else fname
        if callable(f):
            keyargs, keykwargs = memoize_kwargs_to_args(
                f, *args, args_to_ignore=args_to_ignore, **kwargs
            )
            updated = f"{altfname}{keyargs}{keykwargs}"
        else:
            updated = f"{altfname}{args}{kwargs}"
        cache_hash = hash_method_of(self, hash_method)()
        cache_hash.update(updated.encode("utf-8"))
        if source_check_of(self, source_check) and callable(f):
            cache_hash.update(inspect.getsource(f).encode("utf-8"))
        cache_key = base64.b64encode(cache_hash.digest())[:16].decode("utf-8")
        return cache_key + (version_data or "")

    return make_cache_key
