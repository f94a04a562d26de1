"""``LoginManager``: Flask-Login's class, loading users asynchronously before each view."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from quart import Quart, Response, abort, current_app, g, redirect, request, session

from . import utils
from .config import (
    AUTH_HEADER_NAME,
    ID_ATTRIBUTE,
    LOGIN_MESSAGE,
    LOGIN_MESSAGE_CATEGORY,
    REFRESH_MESSAGE,
    REFRESH_MESSAGE_CATEGORY,
    SESSION_KEYS,
    config_value,
)
from .mixins import AnonymousUserMixin
from .signals import (
    session_protected,
    user_accessed,
    user_loaded_from_cookie,
    user_loaded_from_request,
    user_needs_refresh,
    user_unauthorized,
)

if TYPE_CHECKING:
    from dash import Dash

C = TypeVar("C", bound=Callable[..., Any])
#: Endpoints that serve files: the user is not loaded for them (nor needed).
_STATIC_ENDPOINTS = ("static", "_favicon.ico")
EXTENSION_KEY = "dash_quart_login"


class LoginManager:
    """Flask-Login's ``LoginManager`` for Quart.

    The user is loaded once per request or websocket, before the view runs, with the
    ``user_loader`` or ``request_loader`` (sync or ``async def``). After that,
    :data:`current_user` is a plain sync proxy: in views, templates, sync and async Dash
    callbacks and WebSocket callbacks. Sessions and the remember cookie use Flask-Login's
    format, so a cookie issued by a Flask app with the same ``SECRET_KEY`` logs the user in
    here, and the other way round::

        login_manager = LoginManager(server)
        login_manager.login_view = "auth.login"

        @login_manager.user_loader
        async def load_user(user_id):
            return await User.get(user_id)

    .. versionadded:: 0.1
    """

    def __init__(self, app: Quart | None = None, add_context_processor: bool = True) -> None:
        self.anonymous_user: Callable[[], Any] = AnonymousUserMixin
        self.login_view: str | None = None
        self.blueprint_login_views: dict[str, str] = {}
        self.login_message: str | None = LOGIN_MESSAGE
        self.login_message_category = LOGIN_MESSAGE_CATEGORY
        self.refresh_view: str | None = None
        self.needs_refresh_message: str | None = REFRESH_MESSAGE
        self.needs_refresh_message_category = REFRESH_MESSAGE_CATEGORY
        self.session_protection: str | None = "basic"
        self.localize_callback: Callable[[str], str] | None = None
        self.unauthorized_callback: Callable[[], Any] | None = None
        self.needs_refresh_callback: Callable[[], Any] | None = None
        self.id_attribute = ID_ATTRIBUTE
        self._user_callback: Callable[[str], Any] | None = None
        self._request_callback: Callable[[Any], Any] | None = None
        self._session_identifier_generator: Callable[[], str] = utils._create_identifier
        if app is not None:
            self.init_app(app, add_context_processor)

    def init_app(self, app: Quart, add_context_processor: bool = True) -> None:
        """Register the hooks that load the user and keep the remember cookie up to date."""
        app.login_manager = self  # type: ignore[attr-defined]
        app.extensions[EXTENSION_KEY] = self
        app.before_request(self._load_user)
        app.before_websocket(self._load_user)
        app.after_request(self._update_remember_cookie)
        if add_context_processor:
            app.context_processor(_user_context_processor)

    # Decorators ---------------------------------------------------------------------------

    def user_loader(self, callback: C) -> C:
        """Register ``callback(user_id) -> user | None`` (sync or ``async def``)."""
        self._user_callback = callback
        return callback

    def request_loader(self, callback: C) -> C:
        """Register ``callback(request) -> user | None``, for tokens and API keys."""
        self._request_callback = callback
        return callback

    def unauthorized_handler(self, callback: C) -> C:
        """Register what answers anonymous users on ``login_required`` views."""
        self.unauthorized_callback = callback
        return callback

    def needs_refresh_handler(self, callback: C) -> C:
        """Register what answers stale logins on ``fresh_login_required`` views."""
        self.needs_refresh_callback = callback
        return callback

    # Loading the user ---------------------------------------------------------------------

    async def _call(self, func: Callable[..., Any], *args: Any) -> Any:
        return await current_app.ensure_async(func)(*args)

    def _update_request_context_with_user(self, user: Any = None) -> None:
        g._login_user = self.anonymous_user() if user is None else user

    async def _load_user(self) -> None:
        endpoint = getattr(utils._connection(), "endpoint", None) or ""
        if endpoint.endswith(_STATIC_ENDPOINTS) or "_dash-component-suites/" in endpoint:
            return
        if self._user_callback is None and self._request_callback is None:
            raise RuntimeError(
                "Missing user_loader or request_loader: register one with "
                "@login_manager.user_loader. Refer to the dash-quart-login docs."
            )
        g._login_loop = asyncio.get_running_loop()
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        user_accessed.send(app)
        if self._session_protection_failed():
            self._update_request_context_with_user()
            return
        conn = utils._connection()
        user = None
        user_id = session.get("_user_id")
        if user_id is not None and self._user_callback is not None:
            user = await self._call(self._user_callback, user_id)
        if user is None:
            cookie_name = config_value("REMEMBER_COOKIE_NAME")
            if cookie_name in conn.cookies and session.get("_remember") != "clear":
                user = await self._load_user_from_remember_cookie(conn.cookies[cookie_name])
            elif self._request_callback is not None:
                user = await self._call(self._request_callback, conn)
                if user is not None:
                    user_loaded_from_request.send(app, user=user)
        self._update_request_context_with_user(user)

    async def _load_user_from_remember_cookie(self, cookie: str) -> Any:
        user_id = utils.decode_cookie(cookie)
        if user_id is None:
            return None
        session["_user_id"] = user_id
        session["_fresh"] = False
        user = None
        if self._user_callback is not None:
            user = await self._call(self._user_callback, user_id)
        if user is not None:
            user_loaded_from_cookie.send(current_app._get_current_object(), user=user)  # type: ignore[attr-defined]
        return user

    def _session_protection_failed(self) -> bool:
        mode = current_app.config.get("SESSION_PROTECTION", self.session_protection)
        if mode not in ("basic", "strong"):
            return False
        ident = self._session_identifier_generator()
        if session and ident != session.get("_id"):
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            if mode == "basic" or session.permanent:
                if session.get("_fresh") is not False:
                    session["_fresh"] = False
                session_protected.send(app)
                return False
            for key in SESSION_KEYS:
                session.pop(key, None)
            session["_remember"] = "clear"
            session_protected.send(app)
            return True
        return False

    # The remember cookie ------------------------------------------------------------------

    async def _update_remember_cookie(self, response: Response) -> Response:
        if "_remember" not in session and config_value("REMEMBER_COOKIE_REFRESH_EACH_REQUEST"):
            session["_remember"] = "set"
        if "_remember" in session:
            operation = session.pop("_remember", None)
            if operation == "set" and "_user_id" in session:
                self._set_cookie(response)
            elif operation == "clear":
                self._clear_cookie(response)
        return response

    def _set_cookie(self, response: Response) -> None:
        if "_remember_seconds" in session:
            duration: Any = timedelta(seconds=session["_remember_seconds"])
        else:
            duration = config_value("REMEMBER_COOKIE_DURATION")
        if isinstance(duration, int):
            duration = timedelta(seconds=duration)
        if not isinstance(duration, timedelta):
            raise TypeError(
                f"REMEMBER_COOKIE_DURATION must be a datetime.timedelta, instead got: {duration}"
            )
        response.set_cookie(
            config_value("REMEMBER_COOKIE_NAME"),
            value=utils.encode_cookie(str(session["_user_id"])),
            expires=datetime.now(timezone.utc) + duration,
            domain=config_value("REMEMBER_COOKIE_DOMAIN"),
            path=config_value("REMEMBER_COOKIE_PATH"),
            secure=config_value("REMEMBER_COOKIE_SECURE"),
            httponly=config_value("REMEMBER_COOKIE_HTTPONLY"),
            samesite=config_value("REMEMBER_COOKIE_SAMESITE"),
        )

    def _clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            config_value("REMEMBER_COOKIE_NAME"),
            domain=config_value("REMEMBER_COOKIE_DOMAIN"),
            path=config_value("REMEMBER_COOKIE_PATH"),
        )

    # Refusing access ----------------------------------------------------------------------

    def _run_callback_sync(self, callback: Callable[[], Any]) -> Any:
        result = callback()
        if not inspect.isawaitable(result):
            return result
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            loop = g._login_loop
            return asyncio.run_coroutine_threadsafe(_awaited(result), loop).result()
        raise RuntimeError(
            "An async unauthorized or needs-refresh handler cannot answer a sync view that "
            "runs on the event loop; make the view async or the handler sync."
        )

    def unauthorized(self) -> Any:
        """Answer an anonymous user: the handler, a redirect to the login view, or a 401."""
        user_unauthorized.send(current_app._get_current_object())  # type: ignore[attr-defined]
        if self.unauthorized_callback is not None:
            return self._run_callback_sync(self.unauthorized_callback)
        return self._redirect_to(self._login_view(), self.login_message,
                                 self.login_message_category)

    async def unauthorized_async(self, next_url: str | None = None) -> Any:
        """:meth:`unauthorized` for async views (the handler may be ``async def``).

        ``next_url`` replaces the request's URL as the page to come back to.
        """
        user_unauthorized.send(current_app._get_current_object())  # type: ignore[attr-defined]
        if self.unauthorized_callback is not None:
            return await self._call(self.unauthorized_callback)
        return self._redirect_to(self._login_view(), self.login_message,
                                 self.login_message_category, next_url)

    def needs_refresh(self) -> Any:
        """Answer a stale login: the handler, a redirect to the refresh view, or a 401."""
        user_needs_refresh.send(current_app._get_current_object())  # type: ignore[attr-defined]
        if self.needs_refresh_callback is not None:
            return self._run_callback_sync(self.needs_refresh_callback)
        return self._redirect_to(self.refresh_view, self.needs_refresh_message,
                                 self.needs_refresh_message_category)

    async def needs_refresh_async(self) -> Any:
        """:meth:`needs_refresh` for async views."""
        user_needs_refresh.send(current_app._get_current_object())  # type: ignore[attr-defined]
        if self.needs_refresh_callback is not None:
            return await self._call(self.needs_refresh_callback)
        return self._redirect_to(self.refresh_view, self.needs_refresh_message,
                                 self.needs_refresh_message_category)

    def _login_view(self) -> str | None:
        blueprint = getattr(utils._connection(), "blueprint", None)
        if blueprint is not None and blueprint in self.blueprint_login_views:
            return self.blueprint_login_views[blueprint]
        return self.login_view

    def _redirect_to(
        self, view: str | None, message: str | None, category: str, next_url: str | None = None
    ) -> Any:
        if not view:
            abort(401)
        if message:
            text = self.localize_callback(message) if self.localize_callback else message
            flashes = session.get("_flashes", [])
            flashes.append((category, text))
            session["_flashes"] = flashes
        target = request.url if next_url is None else next_url
        if config_value("USE_SESSION_FOR_NEXT"):
            session["_id"] = self._session_identifier_generator()
            session["next"] = utils.make_next_param(utils.expand_login_view(view), target)
            return redirect(utils.login_url(view))
        return redirect(utils.login_url(view, next_url=target))

    # Dash and Flask glue ------------------------------------------------------------------

    def protect_dash(
        self,
        app: Dash,
        *,
        public_routes: Iterable[str] = (),
        public_callbacks: Iterable[str | dict[str, Any]] = (),
    ) -> None:
        """Require a login for a Dash app on this server.

        Anonymous page loads redirect to ``login_view`` with a safe ``next``; callback
        requests get a 401 JSON body, never a redirect; WebSocket callbacks are closed with
        code 4401. ``public_routes`` are page paths (relative to the app's
        ``url_base_pathname``) open to everyone, with the callbacks that render them;
        ``public_callbacks`` names callbacks open to everyone by an output's component id.
        JavaScript, CSS and the ``assets`` folder stay reachable.
        """
        from .dash import protect

        protect(self, app, public_routes=public_routes, public_callbacks=public_callbacks)

    def init_flask_app(self, flask_app: Any) -> Any:
        """Make ``flask_login.current_user`` in bridged Flask views the user loaded here::

            login_manager.init_flask_app(dash_quart.flask_app(server))

        Returns the ``flask_login.LoginManager`` it installs on the Flask app.
        """
        import flask_login

        manager = flask_login.LoginManager(flask_app)
        manager.login_view = self.login_view
        manager.session_protection = self.session_protection

        @manager.user_loader  # type: ignore[untyped-decorator]
        def _same_user(user_id: str) -> Any:
            user = g.get("_login_user")
            if user is not None and getattr(user, "is_authenticated", False):
                if str(getattr(user, self.id_attribute)()) == str(user_id):
                    return user
            return None

        return manager


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


async def _user_context_processor() -> dict[str, Any]:
    return {"current_user": utils._get_user()}


__all__ = ["AUTH_HEADER_NAME", "LoginManager"]
