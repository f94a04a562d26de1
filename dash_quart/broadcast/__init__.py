"""Publish/subscribe for server-sent events, in memory or across workers with Redis."""

from __future__ import annotations

from .backends import BackendUnavailableError as BackendUnavailableError
from .broadcaster import Broadcaster as Broadcaster
from .broadcaster import TooManyClientsError as TooManyClientsError

__all__ = ["BackendUnavailableError", "Broadcaster", "TooManyClientsError"]
