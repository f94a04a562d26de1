"""Per-server state: one pool for sync user code, shared by every Dash app on the server."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from quart import Quart
from quart.utils import run_sync_iterable

from .concurrency import SyncPool, run_in_pool, sync_workers
from .requests import preload_body

EXTENSION_KEY = "dash_quart"


class ServerState:
    """What dash_quart keeps in ``server.extensions["dash_quart"]``.

    The pool is created on first use, so ``DASH_QUART_SYNC_WORKERS`` may be set in
    ``server.config`` any time before the first request.
    """

    def __init__(self, server: Quart) -> None:
        self._config = server.config
        sync_workers(self._config)
        self._pool: SyncPool | None = None
        self.dash_apps: list[object] = []
        #: The ``before_request`` hooks Dash itself registered (first-request setup, the
        #: pages router); they concern Dash's routes, not bridged Flask views.
        self.dash_hooks: set[Callable[..., Any]] = set()

    @property
    def pool(self) -> SyncPool:
        if self._pool is None:
            self._pool = SyncPool(sync_workers(self._config))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def sync_to_async(self, func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        """Quart's ``sync_to_async``, running in this pool instead of the loop's default.

        The request body is read first, for :data:`dash_quart.request`'s sync API.
        """

        @functools.wraps(func)
        async def _wrapper(*args: Any, **kwargs: Any) -> Any:
            await preload_body()
            result = await run_in_pool(self.pool, func, *args, **kwargs)
            if inspect.isgenerator(result):
                return run_sync_iterable(result)
            return result

        _wrapper._quart_async_wrapper = True  # type: ignore[attr-defined]
        return _wrapper


def _register_any_blueprint(
    server: Quart, register: Callable[..., None], blueprint: Any, **options: Any
) -> None:
    """``server.register_blueprint`` that also accepts an unchanged ``flask.Blueprint``."""
    import flask

    if isinstance(blueprint, flask.Blueprint):
        from .flask_compat import register_flask_blueprint

        register_flask_blueprint(server, blueprint, **options)
    else:
        register(blueprint, **options)


def server_state(server: Quart) -> ServerState:
    """Return the server's state, creating it on first use.

    Creating it also routes the server's own sync views and hooks (``@server.get`` on a
    ``def``) through the pool, lets ``server.register_blueprint`` take a ``flask.Blueprint``
    (see :func:`dash_quart.register_flask_blueprint`), and shuts the pool down when the
    server stops serving.
    """
    state = server.extensions.get(EXTENSION_KEY)
    if state is None:
        state = ServerState(server)
        server.extensions[EXTENSION_KEY] = state
        server.sync_to_async = state.sync_to_async  # type: ignore[method-assign]
        server.register_blueprint = functools.partial(  # type: ignore[method-assign]
            _register_any_blueprint, server, server.register_blueprint
        )

        @server.after_serving
        async def _close_pool() -> None:
            state.close()

    assert isinstance(state, ServerState)
    return state
