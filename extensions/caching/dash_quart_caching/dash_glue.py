"""What Dash apps need, without importing Dash unless the app is one.

``Cache(app)`` takes a Dash app on Quart as well as a Quart app. Dash is looked up in
:data:`sys.modules` only: an object cannot be a Dash app unless Dash was imported already.
"""

from __future__ import annotations

import sys
from typing import Any

from quart import Quart


def server_of(app: Any) -> Quart:
    """The Quart app behind ``app``: the app itself, or a Dash app's ``server``."""
    if isinstance(app, Quart):
        return app
    server = getattr(app, "server", None)
    if isinstance(server, Quart):
        return server
    dash = sys.modules.get("dash")
    if dash is not None and isinstance(app, dash.Dash):
        raise TypeError(
            "This Dash app does not run on Quart. Create it with "
            "Dash(__name__, backend='quart') to use dash-quart-caching."
        )
    raise TypeError(
        f"Cache needs a Quart app or a Dash app on Quart, not {type(app).__qualname__}. "
        "Pass quart.Quart(__name__) or Dash(__name__, backend='quart')."
    )
