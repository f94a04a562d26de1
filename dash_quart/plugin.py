"""The ``dash_hooks`` entry point: every Dash app on Quart runs on :class:`QuartBackend`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from dash import hooks
from dash.backends._quart import QuartDashServer
from quart import Quart

from .backend import QuartBackend
from .state import ServerState, server_state

if TYPE_CHECKING:
    from dash import Dash


def auto_enabled() -> bool:
    """False when ``DASH_QUART_AUTO`` is set to 0, false, no or off."""
    value = os.environ.get("DASH_QUART_AUTO", "1").strip().lower()
    return value not in {"0", "false", "no", "off"}


def upgrade(app: Dash) -> bool:
    """Move ``app`` onto :class:`QuartBackend`. Returns True if the app runs on it now.

    Apps on Flask, FastAPI or a custom backend class are left untouched. Upgrading twice is
    harmless. An app whose routes are already registered has its callback route rebound.
    """
    backend = app.backend
    if isinstance(backend, QuartBackend):
        server_state(app.server)
        return True
    if type(backend) is not QuartDashServer:
        return False
    upgraded = QuartBackend(app.server)
    upgraded.config = backend.config
    upgraded.error_handling_mode = backend.error_handling_mode
    app.backend = upgraded
    state = server_state(app.server)
    if app not in state.dash_apps:
        state.dash_apps.append(app)
    if getattr(app, "_initialized_server", None) is app.server:
        _rebind_callback_route(app, upgraded)
    return True


def _rebind_callback_route(app: Dash, backend: QuartBackend) -> None:
    endpoint = app.config.routes_pathname_prefix + "_dash-update-component"
    app.server.view_functions[endpoint] = backend.serve_callback(app)


@hooks.setup(priority=1000)  # type: ignore[untyped-decorator]
def _upgrade_on_setup(app: Dash) -> None:
    if auto_enabled():
        upgrade(app)


class DashQuart:
    """Apply dash_quart explicitly, for apps created with ``DASH_QUART_AUTO=0``.

    ``DashQuart(app)`` accepts a Dash app (moved onto :class:`QuartBackend`) or a Quart app
    (its ``server.extensions["dash_quart"]`` state is created). Applying it twice is harmless::

        app = Dash(__name__, backend="quart")
        dash_quart.DashQuart(app)

    .. versionadded:: 0.1
    """

    def __init__(self, app: Dash | Quart | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Dash | Quart) -> ServerState:
        """Upgrade ``app`` (a Dash app on Quart) or prepare ``app`` (a Quart server).

        Returns the server's state, as kept in ``server.extensions["dash_quart"]``.
        """
        if isinstance(app, Quart):
            return server_state(app)
        server: Any = getattr(app, "server", None)
        if not isinstance(server, Quart):
            raise TypeError(
                "DashQuart needs a Dash app on Quart: create it with "
                "Dash(__name__, backend='quart') or Dash(__name__, server=quart.Quart(__name__))."
            )
        upgrade(app)
        return server_state(server)
