"""Async Plotly Dash on Quart.

Installing dash-quart upgrades every ``Dash(backend="quart")`` app through Dash's
``dash_hooks`` entry point; nothing needs to be imported for that.
"""

from __future__ import annotations

from .backend import QuartBackend as QuartBackend
from .concurrency import run_sync as run_sync
from .plugin import DashQuart as DashQuart

__version__ = "0.1.0"

__all__ = ["DashQuart", "QuartBackend", "run_sync"]
