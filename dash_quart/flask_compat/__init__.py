"""Existing Flask blueprints and extensions on the Quart server."""

from __future__ import annotations

from .bridge import BridgeFlask as BridgeFlask
from .bridge import flask_app as flask_app
from .bridge import register_flask_blueprint as register_flask_blueprint

__all__ = ["BridgeFlask", "flask_app", "register_flask_blueprint"]
