"""Per-server state: one pool for sync user code, shared by every Dash app on the server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from quart import Quart

from .concurrency import make_pool, sync_workers

EXTENSION_KEY = "dash_quart"


class ServerState:
    """What dash_quart keeps in ``server.extensions["dash_quart"]``."""

    def __init__(self, server: Quart) -> None:
        self.workers = sync_workers(server.config)
        self._pool: ThreadPoolExecutor | None = None
        self.dash_apps: list[object] = []

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = make_pool(self.workers)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def server_state(server: Quart) -> ServerState:
    """Return the server's state, creating it (and its shutdown hook) on first use."""
    state = server.extensions.get(EXTENSION_KEY)
    if state is None:
        state = ServerState(server)
        server.extensions[EXTENSION_KEY] = state

        @server.after_serving
        async def _close_pool() -> None:
            state.close()

    assert isinstance(state, ServerState)
    return state
