"""``current_user``, ``login_user`` and friends, with Flask-Login's names and formats."""

from __future__ import annotations

import hmac
import inspect
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from hashlib import sha512
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

from quart import (
    current_app,
    g,
    has_request_context,
    has_websocket_context,
    request,
    session,
    url_for,
    websocket,
)
from werkzeug.local import LocalProxy

from .config import EXEMPT_METHODS, config_value
from .signals import user_logged_in, user_logged_out, user_login_confirmed

F = TypeVar("F", bound=Callable[..., Any])

#: The user of the current request or websocket, loaded before the view ran.
current_user: Any = LocalProxy(lambda: _get_user())


def _connection() -> Any:
    if has_request_context():
        return request
    if has_websocket_context():
        return websocket
    return None


def _get_user() -> Any:
    if _connection() is None:
        return None
    user = g.get("_login_user")
    if user is None:
        manager = current_app.login_manager  # type: ignore[attr-defined]
        user = manager.anonymous_user()
    return user


def _secret_key(key: str | bytes | None = None) -> bytes:
    if key is None:
        key = current_app.config["SECRET_KEY"]
    if key is None:
        raise RuntimeError("Set SECRET_KEY on the app: the login cookies are signed with it.")
    return key.encode("latin1") if isinstance(key, str) else key


def _cookie_digest(payload: str, key: str | bytes | None = None) -> str:
    return hmac.new(_secret_key(key), payload.encode("utf-8"), sha512).hexdigest()


def encode_cookie(payload: str, key: str | bytes | None = None) -> str:
    """Sign ``payload`` the way Flask-Login signs its remember cookie."""
    return f"{payload}|{_cookie_digest(payload, key=key)}"


def decode_cookie(cookie: str, key: str | bytes | None = None) -> str | None:
    """The payload of a cookie made by :func:`encode_cookie`, or None if it was tampered."""
    try:
        payload, digest = cookie.rsplit("|", 1)
    except ValueError:
        return None
    if hmac.compare_digest(_cookie_digest(payload, key=key), digest):
        return payload
    return None


def _get_remote_addr() -> bytes | None:
    conn = _connection()
    address = conn.headers.get("X-Forwarded-For", conn.remote_addr)
    if address is None:
        return None
    return cast(bytes, address.encode("utf-8").split(b",")[0].strip())


def _create_identifier() -> str:
    """Flask-Login's session identifier: a hash of the client address and user agent."""
    user_agent = _connection().headers.get("User-Agent")
    agent = user_agent.encode("utf-8") if user_agent is not None else None
    # Flask-Login formats the bytes values with their b'' prefix; keep it for compatibility.
    base = f"{_get_remote_addr()!r}|{agent!r}"
    return sha512(base.encode("utf8")).hexdigest()


def expand_login_view(login_view: str) -> str:
    """An endpoint name becomes its URL; a URL is returned as it is."""
    if login_view.startswith(("https://", "http://", "/")):
        return login_view
    return url_for(login_view)


def make_next_param(login_url: str, current_url: str) -> str:
    """Reduce ``current_url`` to a path when it is on the login view's host."""
    login = urlsplit(login_url)
    current = urlsplit(current_url)
    if (not login.scheme or login.scheme == current.scheme) and (
        not login.netloc or login.netloc == current.netloc
    ):
        return urlunsplit(("", "", current.path, current.query, ""))
    return current_url


def login_url(login_view: str, next_url: str | None = None, next_field: str = "next") -> str:
    """The URL of ``login_view`` with ``next`` set to ``next_url``."""
    base = expand_login_view(login_view)
    if next_url is None:
        return base
    parsed = urlsplit(base)
    query = parse_qs(parsed.query, keep_blank_values=True)
    query[next_field] = [make_next_param(base, next_url)]
    netloc = current_app.config.get("FORCE_HOST_FOR_REDIRECTS") or parsed.netloc
    return urlunsplit(parsed._replace(netloc=netloc, query=urlencode(query, doseq=True)))


def is_safe_url(target: str | None) -> bool:
    """True if ``target`` is a local path: no scheme, no host, no backslash tricks.

    Use it on ``next`` before redirecting to it; ``//evil.com``, ``https://evil.com``,
    ``/\\evil.com``, ``javascript:…`` and their percent-encoded forms are refused.
    """
    if not target:
        return False
    for candidate in (target, unquote(target), unquote(unquote(target))):
        if any(ch in candidate for ch in "\\\r\n\t\0") or any(ord(ch) < 32 for ch in candidate):
            return False
        stripped = candidate.strip()
        if stripped != candidate or not stripped.startswith("/") or stripped.startswith("//"):
            return False
        parts = urlsplit(stripped)
        if parts.scheme or parts.netloc:
            return False
    return True


def safe_next_url(default: str = "/", next_field: str = "next") -> str:
    """The request's ``next`` argument if it is safe (see :func:`is_safe_url`), else ``default``.

    .. versionadded:: 0.1
    """
    conn = _connection()
    target = conn.args.get(next_field) if conn is not None else None
    if target is None and conn is not None and has_request_context():
        target = session.get("next")
    return target if isinstance(target, str) and is_safe_url(target) else default


def login_user(
    user: Any,
    remember: bool = False,
    duration: timedelta | None = None,
    force: bool = False,
    fresh: bool = True,
) -> bool:
    """Log ``user`` in. Returns False, and does nothing, for an inactive user unless ``force``."""
    if not force and not user.is_active:
        return False
    manager = current_app.login_manager  # type: ignore[attr-defined]
    user_id = getattr(user, manager.id_attribute)()
    session["_user_id"] = user_id
    session["_fresh"] = fresh
    session["_id"] = manager._session_identifier_generator()
    if remember:
        session["_remember"] = "set"
        if duration is not None:
            try:
                session["_remember_seconds"] = duration.total_seconds()
            except AttributeError as error:
                raise TypeError(
                    f"duration must be a datetime.timedelta, instead got: {duration!r}"
                ) from error
    manager._update_request_context_with_user(user)
    user_logged_in.send(current_app._get_current_object(), user=_get_user())  # type: ignore[attr-defined]
    return True


def logout_user() -> bool:
    """Log the current user out; the remember cookie is cleared too."""
    user = _get_user()
    for key in ("_user_id", "_fresh", "_id", "_remember_seconds"):
        session.pop(key, None)
    if config_value("REMEMBER_COOKIE_NAME") in _connection().cookies:
        session["_remember"] = "clear"
    user_logged_out.send(current_app._get_current_object(), user=user)  # type: ignore[attr-defined]
    current_app.login_manager._update_request_context_with_user()  # type: ignore[attr-defined]
    return True


def confirm_login() -> None:
    """Mark the session fresh again (after the user re-entered their password)."""
    session["_fresh"] = True
    session["_id"] = current_app.login_manager._session_identifier_generator()  # type: ignore[attr-defined]
    user_login_confirmed.send(current_app._get_current_object())  # type: ignore[attr-defined]


def login_fresh() -> bool:
    """True if the login was made in this session, not restored from the remember cookie."""
    return bool(session.get("_fresh", False))


def login_remembered() -> bool:
    """True if the user was logged in from the remember cookie."""
    cookie = _connection().cookies.get(config_value("REMEMBER_COOKIE_NAME"))
    return cookie is not None and decode_cookie(cookie) is not None


def _exempt() -> bool:
    conn = _connection()
    method = getattr(conn, "method", None)
    return method in EXEMPT_METHODS or bool(config_value("LOGIN_DISABLED"))


def _guard(func: F, blocked: Callable[[], bool], refuse: str) -> F:
    if inspect.iscoroutinefunction(func):

        @wraps(func)
        async def async_view(*args: Any, **kwargs: Any) -> Any:
            if not _exempt() and blocked():
                return await getattr(current_app.login_manager, f"{refuse}_async")()  # type: ignore[attr-defined]
            return await func(*args, **kwargs)

        return cast(F, async_view)

    @wraps(func)
    def sync_view(*args: Any, **kwargs: Any) -> Any:
        if not _exempt() and blocked():
            return getattr(current_app.login_manager, refuse)()  # type: ignore[attr-defined]
        return func(*args, **kwargs)

    return cast(F, sync_view)


def login_required(func: F) -> F:
    """Refuse anonymous users: the login manager's ``unauthorized`` answers instead.

    Works on sync and async views; OPTIONS requests and ``LOGIN_DISABLED`` pass.
    """
    return _guard(func, lambda: not current_user.is_authenticated, "unauthorized")


def fresh_login_required(func: F) -> F:
    """Like :func:`login_required`, and the login must be fresh (not from the cookie)."""
    stale = _guard(func, lambda: not login_fresh(), "needs_refresh")
    return _guard(stale, lambda: not current_user.is_authenticated, "unauthorized")
