"""Configuration keys of the core plugin and their defaults."""

from __future__ import annotations

from typing import Any

#: Each key can be set in ``server.config``; the ones marked *env* can also be set as
#: environment variables, which win. The docs render this table.
DEFAULTS: dict[str, Any] = {
    # Threads per server process for sync callbacks, sync views and run_sync(). 40 is the
    # capacity Starlette/AnyIO use for sync endpoints; raise it for many slow sync callbacks.
    "DASH_QUART_SYNC_WORKERS": 40,
    # env only: set to 0 to stop the dash_hooks entry point from upgrading Quart apps.
    "DASH_QUART_AUTO": "1",
    # Serve bridged Flask URLs without Quart's request cycle when it has nothing to do.
    "DASH_QUART_FLASK_DIRECT": True,
}
