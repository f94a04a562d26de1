"""The call path shared by ``cached`` and ``memoize``: look up, compute once, store.

Each call is split in two halves that run on the event loop, :func:`begin` (build the key,
look it up, join or lead the single-flight) and :func:`complete` (store, release, share).
An ``async def`` function is awaited between them. A ``def`` function runs between them in
its own worker thread, while the halves go to the loop through ``cache.sync``.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from quart import after_this_request, has_request_context
from werkzeug.exceptions import HTTPException

from .keys import join_generator, normalize_timeout, wants_args, wants_extra_args
from .responses import CachedResponse, freeze, thaw
from .singleflight import Plan
from .sync import LoopThreadError, on_event_loop
from .versions import memoize_version

if TYPE_CHECKING:
    from .cache import Cache

logger = logging.getLogger("dash_quart_caching")


class Options:
    """How one decorated function is cached."""

    def __init__(
        self,
        kind: str,
        f: Callable[..., Any],
        unless: Callable[..., Any] | None,
        forced_update: Callable[..., Any] | None,
        is_stale: Callable[..., Any] | None,
        response_filter: Callable[..., Any] | None,
        cache_none: bool,
    ) -> None:
        self.kind = kind
        self.f = f
        self.unless = unless
        self.forced_update = forced_update
        self.is_stale = is_stale
        self.response_filter = response_filter
        self.cache_none = cache_none
        self.make_key: Callable[..., Any] | None = None
        self.args_to_ignore: list[str] | None = None
        self.hit_indication = False


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _unless(options: Options, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    unless = options.unless
    if not callable(unless):
        return False
    return unless(options.f, *args, **kwargs) if wants_args(unless) else unless()


async def _forced(options: Options, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    forced = options.forced_update
    if not callable(forced):
        return False
    result = forced(*args, **kwargs) if wants_args(forced) else forced()
    return await _resolve(result) is True


async def _stale(
    options: Options, rv: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> bool:
    is_stale = options.is_stale
    if not callable(is_stale):
        return False
    value = thaw(rv)
    result = is_stale(value, *args, **kwargs) if wants_extra_args(is_stale) else is_stale(value)
    return await _resolve(result) is True


async def _key(
    fn: Any, options: Options, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> str:
    if options.kind == "memoize":
        assert options.make_key is not None
        key: str = await options.make_key(options.f, *args, **kwargs)
        return key
    if callable(options.make_key):
        return str(await _resolve(options.make_key(*args, **kwargs)))
    return str(fn.make_cache_key(*args, use_request=True, **kwargs))


async def begin(
    cache: Cache, fn: Any, options: Options, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Plan:
    """Build the key and look it up; a backend error fails open when configured to."""
    state = cache._live_state()
    try:
        if options.kind == "memoize":
            forced = await _forced(options, args, kwargs)
            key = await _key(fn, options, args, kwargs)
        else:
            key = await _key(fn, options, args, kwargs)
            forced = await _forced(options, args, kwargs)
        if forced:
            return Plan(key)
        backend = state.backend

        async def lookup() -> tuple[bool, Any]:
            rv = await backend.get(key)
            found = True
            if rv is None:
                found = options.cache_none and await backend.has(key)
            if found and await _stale(options, rv, args, kwargs):
                return False, None
            return found, rv

        return await state.flights.begin(key, lookup)
    except Exception:
        if not state.fail_open:
            raise
        logger.warning(
            "Cache lookup for %s failed; calling it without the cache.",
            options.f.__qualname__,
            exc_info=True,
        )
        return Plan(None)


async def complete(
    cache: Cache,
    fn: Any,
    options: Options,
    plan: Plan,
    rv: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """Store what the function returned, then release the flight and its lock."""
    state = cache._live_state()
    shareable, stored = True, rv
    try:
        if plan.key is not None:
            if options.kind == "cached":
                shareable, stored = await freeze(rv)
            checked = rv.get_response() if isinstance(rv, HTTPException) else rv
            if shareable and (
                options.response_filter is None
                or await _resolve(options.response_filter(checked))
            ):
                timeout = normalize_timeout(fn.cache_timeout)
                if isinstance(rv, CachedResponse):
                    timeout = rv.cache_timeout or timeout
                timeout = state.jittered(timeout)
                await state.backend.set(plan.key, stored, timeout=timeout)
                if options.kind == "memoize":
                    await memoize_version(
                        cache,
                        options.f,
                        args=args,
                        kwargs=kwargs,
                        refresh=True,
                        timeout=timeout,
                        args_to_ignore=options.args_to_ignore,
                    )
    except Exception:
        if not state.fail_open:
            raise
        logger.warning(
            "Cache store for %s failed; its value was returned uncached.",
            options.f.__qualname__,
            exc_info=True,
        )
    finally:
        state.flights.finish(plan, stored, shareable=shareable)
        await _release(cache, plan)


async def abort(cache: Cache, plan: Plan, error: BaseException) -> None:
    """The function raised: hand the error to waiters and free the lock."""
    cache._live_state().flights.fail(plan, error)
    await _release(cache, plan)


async def _release(cache: Cache, plan: Plan) -> None:
    try:
        await cache._live_state().flights.release(plan)
    except Exception:
        logger.warning(
            "Releasing a single-flight lock failed; its lease will expire.", exc_info=True
        )


async def _mark_hit(response: Any) -> Any:
    response.headers["hit_cache"] = "True"
    return response


def _reveal(plan: Plan, options: Options) -> Any:
    if plan.error is not None:
        raise plan.error
    if options.hit_indication and has_request_context():
        after_this_request(_mark_hit)
    if options.kind == "cached" and isinstance(plan.value, HTTPException):
        raise plan.value
    return thaw(plan.value)


def _is_async(f: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(f) or inspect.iscoroutinefunction(inspect.unwrap(f))


def wrap(cache: Cache, options: Options) -> Callable[..., Any]:
    """The wrapper of ``options.f``: async for an ``async def`` function, sync otherwise."""
    f = options.f
    if inspect.isasyncgenfunction(f):
        raise TypeError(
            f"{f.__qualname__} is an async generator, which cannot be cached; return a list."
        )
    catch: tuple[type[BaseException], ...] = (HTTPException,) if options.kind == "cached" else ()

    if _is_async(f):

        @functools.wraps(f)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            if await _resolve(_unless(options, args, kwargs)) is True:
                return await _resolve(f(*args, **kwargs))
            plan = await begin(cache, async_wrapper, options, args, kwargs)
            if plan.found or plan.error is not None:
                return _reveal(plan, options)
            try:
                rv = await _resolve(f(*args, **kwargs))
            except catch as error:
                rv = error
            except BaseException as error:
                await abort(cache, plan, error)
                raise
            await complete(cache, async_wrapper, options, plan, rv, args, kwargs)
            if isinstance(rv, HTTPException) and catch:
                raise rv
            return rv

        return async_wrapper

    @functools.wraps(f)
    def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
        if on_event_loop():
            raise LoopThreadError(
                f"{f.__qualname__}() is a cached sync function and was called on the event "
                "loop thread, where waiting for the cache would deadlock the loop. Make it "
                f"`async def`, or call it in a worker thread: "
                f"`await dash_quart.run_sync({f.__name__}, ...)`."
            )
        what = f"{f.__qualname__}()"

        def run(step: Callable[[], Any]) -> Any:
            return cache.sync.run(f.__name__, step, None, what=what)

        bypass = _unless(options, args, kwargs)
        if inspect.isawaitable(bypass):
            bypass = run(functools.partial(_resolve, bypass))
        if bypass is True:
            return f(*args, **kwargs)
        plan = run(functools.partial(begin, cache, sync_wrapper, options, args, kwargs))
        if plan.found or plan.error is not None:
            return _reveal(plan, options)
        try:
            rv = f(*args, **kwargs)
            if inspect.isgenerator(rv):
                rv = join_generator(rv)
        except catch as error:
            rv = error
        except BaseException as error:
            run(functools.partial(abort, cache, plan, error))
            raise
        run(functools.partial(complete, cache, sync_wrapper, options, plan, rv, args, kwargs))
        if isinstance(rv, HTTPException) and catch:
            raise rv
        return rv

    return sync_wrapper
