"""Async Plotly Dash on Quart.

Installing dash-quart upgrades every ``Dash(backend="quart")`` app through Dash's
``dash_hooks`` entry point; nothing needs to be imported for that.
"""

from __future__ import annotations

from .backend import QuartBackend as QuartBackend
from .concurrency import run_sync as run_sync
from .flask_compat import flask_app as flask_app
from .flask_compat import register_flask_blueprint as register_flask_blueprint
from .plugin import DashQuart as DashQuart
from .requests import request as request

__version__ = "0.1.0"

#: JavaScript of dash_quart.components, served by Dash's component suites.
_js_dist = [{"relative_package_path": "components/event_source.js", "namespace": "dash_quart"}]

__all__ = [
    "DashQuart",
    "QuartBackend",
    "flask_app",
    "register_flask_blueprint",
    "request",
    "run_sync",
]
