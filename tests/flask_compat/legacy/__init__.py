"""A legacy Flask package, as a team would have it before moving to Quart."""

from .views import bp, teardown_log

__all__ = ["bp", "teardown_log"]
