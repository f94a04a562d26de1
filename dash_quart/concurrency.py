"""Run blocking code off the event loop, in a bounded pool, with context preserved."""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import threading
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, Future
from contextvars import copy_context
from queue import Empty, SimpleQueue
from typing import Any, ParamSpec, TypeVar

from .config import DEFAULTS
from .requests import preload_body

P = ParamSpec("P")
T = TypeVar("T")

_fallback_lock = threading.Lock()
_fallback_pool: SyncPool | None = None


def sync_workers(config: Any = None) -> int:
    """Return the configured pool size.

    The ``DASH_QUART_SYNC_WORKERS`` environment variable wins over the app config key of the
    same name, so that an operator can resize a deployed app without touching its code.
    """
    raw: Any = os.environ.get("DASH_QUART_SYNC_WORKERS")
    if raw is None and config is not None:
        raw = config.get("DASH_QUART_SYNC_WORKERS")
    if raw is None:
        raw = DEFAULTS["DASH_QUART_SYNC_WORKERS"]
    try:
        workers = int(raw)
    except (TypeError, ValueError):
        raise ValueError(
            f"DASH_QUART_SYNC_WORKERS must be a positive integer, got {raw!r}."
        ) from None
    if workers < 1:
        raise ValueError(f"DASH_QUART_SYNC_WORKERS must be a positive integer, got {workers}.")
    return workers


Settle = Callable[[asyncio.Future[Any], Any], None]


class _Inbox:
    """Results on their way from pool threads to one event loop.

    Results that arrive while the loop has not yet collected the previous ones share its
    wake-up: under load, one ``call_soon_threadsafe`` (one write to the loop's self-pipe)
    hands over many results instead of one each.
    """

    __slots__ = ("_armed", "_items", "_lock", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._items: list[tuple[Settle, asyncio.Future[Any], Any]] = []
        self._armed = False

    def post(self, settle: Settle, waiter: asyncio.Future[Any], value: Any) -> None:
        with self._lock:
            self._items.append((settle, waiter, value))
            if self._armed:
                return
            self._armed = True
        try:
            self.loop.call_soon_threadsafe(self._deliver)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            with self._lock:
                self._items.clear()
                self._armed = False

    def _deliver(self) -> None:
        with self._lock:
            items, self._items = self._items, []
            self._armed = False
        failure: BaseException | None = None
        for settle, waiter, value in items:
            try:
                settle(waiter, value)
            except BaseException as error:  # the other results are still delivered
                failure = failure or error
        if failure is not None:
            raise failure


class _Call:
    """Work for :meth:`SyncPool.call`: settles an asyncio future on its loop."""

    __slots__ = ("args", "func", "inbox", "waiter")

    def __init__(
        self,
        inbox: _Inbox,
        waiter: asyncio.Future[Any],
        func: Callable[..., Any],
        args: tuple[Any, ...],
    ) -> None:
        self.inbox, self.waiter, self.func, self.args = inbox, waiter, func, args

    def run(self, idle: Callable[[], None]) -> None:
        if self.waiter.cancelled():
            idle()
            return
        settle: Settle
        try:
            settle, value = _succeed, self.func(*self.args)
        except BaseException as error:
            settle, value = _fail, error
        idle()
        self.inbox.post(settle, self.waiter, value)

    def cancel(self) -> None:
        self.inbox.post(_cancel, self.waiter, None)


class _Submitted:
    """Work for :meth:`SyncPool.submit`: settles a :class:`concurrent.futures.Future`."""

    __slots__ = ("args", "fn", "future", "kwargs")

    def __init__(
        self, future: Future[Any], fn: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        self.future, self.fn, self.args, self.kwargs = future, fn, args, kwargs

    def run(self, idle: Callable[[], None]) -> None:
        if not self.future.set_running_or_notify_cancel():
            idle()
            return
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as error:
            idle()
            self.future.set_exception(error)
        else:
            idle()
            self.future.set_result(result)

    def cancel(self) -> None:
        self.future.cancel()


def _succeed(waiter: asyncio.Future[Any], result: Any) -> None:
    if not waiter.done():
        waiter.set_result(result)


def _fail(waiter: asyncio.Future[Any], error: BaseException) -> None:
    if waiter.done():
        return
    if isinstance(error, StopIteration):  # an asyncio future cannot hold one
        wrapped = RuntimeError(f"{type(error).__name__} raised in the thread pool")
        wrapped.__cause__ = error
        error = wrapped
    waiter.set_exception(error)


def _cancel(waiter: asyncio.Future[Any], _: Any) -> None:
    waiter.cancel()


_Job = _Call | _Submitted


class SyncPool(Executor):
    """A bounded pool of threads for blocking code.

    It is a :class:`concurrent.futures.Executor` (``submit``, ``map``, ``shutdown``, and so
    ``loop.run_in_executor``) that grows as :class:`~concurrent.futures.ThreadPoolExecutor`
    does: a thread is started only when no idle one is waiting, up to ``max_workers``.
    :meth:`call` awaits a function's result with one hand-off each way: the thread settles
    the awaiting asyncio future itself, with no :class:`concurrent.futures.Future` between.

    .. versionadded:: 0.1
    """

    def __init__(self, max_workers: int, thread_name_prefix: str = "dash-quart-sync") -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, not {max_workers}.")
        self.max_workers = max_workers
        self._prefix = thread_name_prefix
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._closed = False
        self._inbox: _Inbox | None = None
        # Threads hold only the queue, so a forgotten pool is collected and its threads end.
        weakref.finalize(self, self._jobs.put, None)

    async def call(self, func: Callable[..., T], *args: Any) -> T:
        """Run ``func(*args)`` in a thread of the pool and await its result.

        If the awaiting task is cancelled before a thread picks the call up, it never runs;
        once it runs, it finishes and its result is dropped.
        """
        loop = asyncio.get_running_loop()
        inbox = self._inbox
        if inbox is None or inbox.loop is not loop:
            inbox = self._inbox = _Inbox(loop)
        waiter: asyncio.Future[T] = loop.create_future()
        self._put(_Call(inbox, waiter, func, args))
        return await waiter

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        self._put(_Submitted(future, fn, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Take no more work, end the threads once the queued work is done, and join them.

        With ``cancel_futures``, queued work that has not started is dropped instead: its
        futures are cancelled, and so are the tasks awaiting :meth:`call`.
        """
        with self._lock:
            self._closed = True
            while cancel_futures:
                try:
                    job = self._jobs.get_nowait()
                except Empty:  # a thread may take the last job between a check and a get
                    break
                if job is not None:
                    job.cancel()
            self._jobs.put(None)
            threads = list(self._threads)
        if wait:
            for thread in threads:
                thread.join()

    def _put(self, job: _Job) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("This pool is shut down; it runs no new work.")
            if _exiting:
                raise RuntimeError("The interpreter is exiting; the pool runs no new work.")
            self._jobs.put(job)
            if self._idle.acquire(blocking=False) or len(self._threads) >= self.max_workers:
                return
            thread = threading.Thread(
                target=_work,
                args=(self._jobs, self._idle),
                name=f"{self._prefix}_{len(self._threads)}",
            )
            thread.start()
            self._threads.append(thread)
            _threads_queues[thread] = self._jobs


#: Every live pool thread and its queue, for the exit hook below.
_threads_queues: weakref.WeakKeyDictionary[threading.Thread, SimpleQueue[_Job | None]] = (
    weakref.WeakKeyDictionary()
)
_exiting = False


def _finish_at_exit() -> None:
    """At interpreter exit, let running and queued work finish, as ThreadPoolExecutor does."""
    global _exiting
    _exiting = True
    items = list(_threads_queues.items())
    for _, jobs in items:
        jobs.put(None)
    for thread, _ in items:
        thread.join()


# Runs before the interpreter joins its non-daemon threads (the hook ThreadPoolExecutor uses).
threading._register_atexit(_finish_at_exit)  # type: ignore[attr-defined]


def _work(jobs: SimpleQueue[_Job | None], idle: threading.Semaphore) -> None:
    while True:
        job = jobs.get()
        if job is None:
            jobs.put(None)  # for the next thread
            return
        # The thread counts as idle before the result is handed over, so that work the
        # result leads to finds it instead of starting another thread.
        job.run(idle.release)
        del job


def _fallback() -> SyncPool:
    global _fallback_pool
    with _fallback_lock:
        if _fallback_pool is None:
            _fallback_pool = SyncPool(sync_workers())
        return _fallback_pool


def current_pool() -> SyncPool:
    """The pool of the Quart app in context, or a process-wide pool outside of one."""
    from quart import current_app, has_app_context

    if has_app_context():
        state = current_app.extensions.get("dash_quart")
        if state is not None:
            pool: SyncPool = state.pool
            return pool
    return _fallback()


async def run_in_pool(
    pool: SyncPool, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run ``func`` in ``pool`` under a copy of the current context and await its result."""
    call = functools.partial(func, *args, **kwargs)
    return await pool.call(copy_context().run, call)


async def run_sync(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Await a blocking function without blocking the event loop.

    ``func`` runs in the same bounded thread pool as sync Dash callbacks, with the current
    :mod:`contextvars` copied, so Quart's ``request``, ``g`` and Dash's ``callback_context``
    keep working inside it, and :data:`dash_quart.request` gives sync access to the body::

        rows = await dash_quart.run_sync(slow_query, 42)

    .. versionadded:: 0.1
    """
    if inspect.iscoroutinefunction(func):
        raise TypeError(
            f"run_sync() runs blocking functions; {func.__qualname__} is 'async def', "
            "await it directly instead."
        )
    await preload_body()
    return await run_in_pool(current_pool(), func, *args, **kwargs)


def ensure_async_in(
    pool: Callable[[], SyncPool], func: Callable[..., Any]
) -> Callable[..., Awaitable[Any]]:
    """Wrap ``func`` so that it is awaitable and never blocks the loop.

    ``async def`` functions are returned unchanged. A sync function whose wrapped original is
    ``async def`` (a decorator that forgot to be async) is called on the loop and its
    coroutine awaited. Any other sync function runs in the pool that ``pool()`` returns.
    """
    if inspect.iscoroutinefunction(func):
        return func
    if inspect.iscoroutinefunction(inspect.unwrap(func)):

        @functools.wraps(func)
        async def _await_result(*args: Any, **kwargs: Any) -> Any:
            result = func(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result

        return _await_result

    @functools.wraps(func)
    async def _in_pool(*args: Any, **kwargs: Any) -> Any:
        await preload_body()
        result = await run_in_pool(pool(), func, *args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    return _in_pool
