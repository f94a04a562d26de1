"""Defaults and constants, with Flask-Login 0.6.3's names and values."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

#: Configuration keys read with ``app.config.get(key, DEFAULTS[key])``.
DEFAULTS: dict[str, Any] = {
    "LOGIN_DISABLED": False,
    "USE_SESSION_FOR_NEXT": False,
    "FORCE_HOST_FOR_REDIRECTS": None,
    "REMEMBER_COOKIE_NAME": "remember_token",
    "REMEMBER_COOKIE_DURATION": timedelta(days=365),
    "REMEMBER_COOKIE_DOMAIN": None,
    "REMEMBER_COOKIE_PATH": "/",
    "REMEMBER_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": None,
    "REMEMBER_COOKIE_REFRESH_EACH_REQUEST": False,
}

COOKIE_NAME = DEFAULTS["REMEMBER_COOKIE_NAME"]
COOKIE_DURATION = DEFAULTS["REMEMBER_COOKIE_DURATION"]
COOKIE_SECURE = DEFAULTS["REMEMBER_COOKIE_SECURE"]
COOKIE_HTTPONLY = DEFAULTS["REMEMBER_COOKIE_HTTPONLY"]
COOKIE_SAMESITE = DEFAULTS["REMEMBER_COOKIE_SAMESITE"]
LOGIN_MESSAGE = "Please log in to access this page."
LOGIN_MESSAGE_CATEGORY = "message"
REFRESH_MESSAGE = "Please reauthenticate to access this page."
REFRESH_MESSAGE_CATEGORY = "message"
ID_ATTRIBUTE = "get_id"
AUTH_HEADER_NAME = "Authorization"
#: The session keys this extension writes; pop them to log a user out by hand.
SESSION_KEYS = {"_user_id", "_remember", "_remember_seconds", "_id", "_fresh", "next"}
#: Methods that ``login_required`` lets through.
EXEMPT_METHODS = {"OPTIONS"}


def config_value(key: str) -> Any:
    from quart import current_app

    return current_app.config.get(key, DEFAULTS[key])
