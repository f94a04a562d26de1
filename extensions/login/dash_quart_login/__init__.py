"""The Flask-Login API on Quart, with async user loaders and Dash protection."""

from __future__ import annotations

from .config import AUTH_HEADER_NAME, COOKIE_DURATION, COOKIE_NAME, DEFAULTS, SESSION_KEYS
from .login_manager import LoginManager
from .mixins import AnonymousUserMixin, UserMixin
from .signals import (
    session_protected,
    user_accessed,
    user_loaded_from_cookie,
    user_loaded_from_request,
    user_logged_in,
    user_logged_out,
    user_login_confirmed,
    user_needs_refresh,
    user_unauthorized,
)
from .testing import LoginTestClient
from .utils import (
    confirm_login,
    current_user,
    decode_cookie,
    encode_cookie,
    fresh_login_required,
    is_safe_url,
    login_fresh,
    login_remembered,
    login_required,
    login_url,
    login_user,
    logout_user,
    make_next_param,
    safe_next_url,
)

__version__ = "0.1.0"

__all__ = [
    "AUTH_HEADER_NAME",
    "COOKIE_DURATION",
    "COOKIE_NAME",
    "DEFAULTS",
    "SESSION_KEYS",
    "AnonymousUserMixin",
    "LoginManager",
    "LoginTestClient",
    "UserMixin",
    "confirm_login",
    "current_user",
    "decode_cookie",
    "encode_cookie",
    "fresh_login_required",
    "is_safe_url",
    "login_fresh",
    "login_remembered",
    "login_required",
    "login_url",
    "login_user",
    "logout_user",
    "make_next_param",
    "safe_next_url",
    "session_protected",
    "user_accessed",
    "user_loaded_from_cookie",
    "user_loaded_from_request",
    "user_logged_in",
    "user_logged_out",
    "user_login_confirmed",
    "user_needs_refresh",
    "user_unauthorized",
]
