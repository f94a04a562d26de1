"""Dash components that come with dash_quart."""

from __future__ import annotations

from .event_source import EventSource as EventSource

__all__ = ["EventSource"]
