"""Existing ``flask.Blueprint``\\s on a Quart server, with real Flask semantics.

Each Quart server gets one hidden :class:`BridgeFlask` app that shares the server's config
(and so its ``SECRET_KEY`` and session cookie). Flask blueprints are registered on it, and
every URL rule they create is mirrored on the Quart server by a view that turns the Quart
request into a WSGI environ and calls the Flask app in the server's thread pool. Inside the
view, ``flask.request``, ``g``, ``session``, ``url_for`` and every other Flask API are Flask's
own.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from contextvars import Context, ContextVar, copy_context
from typing import Any, cast

import flask
from quart import Quart, Response, request
from quart.globals import request_ctx
from quart.sessions import SecureCookieSession
from werkzeug.routing import BuildError, Rule

from ..state import server_state
from . import direct
from .wsgi import RESPONSE_KEY, WSGIResult, build_environ, call_wsgi, to_quart_response

BRIDGE_KEY = "dash_quart.flask"
#: Quart routes every method of a bridged URL to Flask, which answers 405 itself.
_ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

_SERVER_LOOP: ContextVar[asyncio.AbstractEventLoop] = ContextVar("dash_quart_server_loop")


class BridgeFlask(flask.Flask):
    """The Flask app that hosts a Quart server's bridged blueprints.

    ``async def`` views and hooks in those blueprints run on the Quart server's event loop
    (``asyncio.run_coroutine_threadsafe``), never on a second loop.

    .. versionadded:: 0.1
    """

    def __init__(self, server: Quart) -> None:
        super().__init__(
            server.import_name,
            static_folder=None,
            template_folder=server.template_folder,
            root_path=server.root_path,
        )
        for key, value in self.config.items():
            server.config.setdefault(key, value)
        self.config = server.config
        self.quart_server = server
        self.url_build_error_handlers.append(self._build_quart_url)

        @self.after_request
        def _remember_response(response: flask.Response) -> flask.Response:
            flask.request.environ[RESPONSE_KEY] = response
            return response

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if not inspect.iscoroutinefunction(func):
            return func

        @functools.wraps(func)
        def _on_server_loop(*args: Any, **kwargs: Any) -> Any:
            loop = _SERVER_LOOP.get(None)
            if loop is None:
                raise RuntimeError(
                    f"{func.__qualname__} is async and can only run inside a bridged request."
                )
            return asyncio.run_coroutine_threadsafe(func(*args, **kwargs), loop).result()

        return _on_server_loop

    def _build_quart_url(self, error: Exception, endpoint: str, values: dict[str, Any]) -> str:
        """Build URLs for the Quart server's own endpoints (Dash pages, Quart routes)."""
        external = bool(values.pop("_external", False))
        anchor = values.pop("_anchor", None)
        method = values.pop("_method", None)
        scheme = values.pop("_scheme", None)
        server = self.quart_server
        if flask.has_request_context():
            adapter = server.url_map.bind_to_environ(
                flask.request.environ, server_name=server.config["SERVER_NAME"]
            )
        else:
            adapter = server.url_map.bind(server.config["SERVER_NAME"] or "localhost")
        if scheme is not None:
            adapter.url_scheme = scheme
            external = True
        try:
            url = adapter.build(endpoint, values, method=method, force_external=external)
        except BuildError:
            raise error from None
        return f"{url}#{anchor}" if anchor else url


def flask_app(server: Quart) -> BridgeFlask:
    """The Flask app that hosts ``server``'s bridged blueprints, created on first use.

    Initialise Flask extensions on it so that they work inside bridged views::

        LoginManager().init_app(dash_quart.flask_app(server))

    .. versionadded:: 0.1
    """
    app = server.extensions.get(BRIDGE_KEY)
    if app is None:
        server_state(server)
        app = BridgeFlask(server)
        server.extensions[BRIDGE_KEY] = app
        direct.install(server)
    return cast(BridgeFlask, app)


def register_flask_blueprint(
    server: Quart,
    blueprint: flask.Blueprint,
    *,
    url_prefix: str | None = None,
    subdomain: str | None = None,
    url_defaults: dict[str, Any] | None = None,
    name: str | None = None,
    **options: Any,
) -> None:
    """Register an unchanged ``flask.Blueprint`` on a Quart server.

    The options are those of Flask's ``register_blueprint``. Sync views run in the server's
    bounded thread pool; ``async def`` views run on the server's event loop::

        from legacy.views import bp   # a flask.Blueprint
        dash_quart.register_flask_blueprint(app.server, bp, url_prefix="/legacy")

    .. versionadded:: 0.1
    """
    if not isinstance(blueprint, flask.Blueprint):
        raise TypeError(
            f"register_flask_blueprint() takes a flask.Blueprint, not {type(blueprint).__name__};"
            " register Quart blueprints with server.register_blueprint()."
        )
    app = flask_app(server)
    given = {"url_prefix": url_prefix, "subdomain": subdomain, "url_defaults": url_defaults}
    given["name"] = name
    options.update({key: value for key, value in given.items() if value is not None})
    before = {id(rule) for rule in app.url_map.iter_rules()}
    app.register_blueprint(blueprint, **options)
    for converter, cls in app.url_map.converters.items():
        server.url_map.converters.setdefault(converter, cls)
    for rule in app.url_map.iter_rules():
        if id(rule) not in before:
            _mirror_rule(server, rule)
    prefix = (options.get("url_prefix") or blueprint.url_prefix or "").rstrip("/")
    if prefix:
        _claim_prefix(server, prefix, options.get("subdomain") or blueprint.subdomain)


def _mirror_rule(server: Quart, rule: Rule) -> None:
    assert rule.endpoint is not None
    existing = server.view_functions.get(rule.endpoint)
    if existing is not None and existing is not bridged_view:
        raise ValueError(
            f"The Flask endpoint {rule.endpoint!r} is already a Quart endpoint; register the "
            "blueprint under another name: register_flask_blueprint(server, bp, name=...)."
        )
    methods = sorted(set(_ALL_METHODS) | set(rule.methods or ()))
    server.add_url_rule(
        rule.rule,
        endpoint=rule.endpoint,
        view_func=bridged_view,
        provide_automatic_options=False,
        methods=methods,
        defaults=rule.defaults,
        subdomain=rule.subdomain,
        host=rule.host,
        strict_slashes=rule.strict_slashes,
        merge_slashes=rule.merge_slashes,
    )


def _claim_prefix(server: Quart, prefix: str, subdomain: str | None) -> None:
    """Send unmatched URLs under a blueprint's prefix to Flask, for Flask's own 404."""
    for rule in (prefix, f"{prefix}/<path:_unmatched>"):
        endpoint = f"_dash_quart_flask:{subdomain or ''}:{rule}"
        if endpoint in server.view_functions:
            continue
        server.add_url_rule(
            rule,
            endpoint=endpoint,
            view_func=bridged_view,
            provide_automatic_options=False,
            methods=list(_ALL_METHODS),
            subdomain=subdomain,
        )


def _never(self: object) -> bool:
    return False


def _ignore(self: object, value: bool) -> None:
    return None


class DetachedSession(SecureCookieSession):
    """A session that Quart reads and writes during a bridged request but never saves.

    It is never modified, and never permanent either: with SESSION_REFRESH_EACH_REQUEST,
    Quart would otherwise save this stale copy of a permanent session over the cookie the
    Flask app just set.
    """

    modified = property(_never, _ignore)
    permanent = property(_never, _ignore)


async def call_flask(
    server: Quart, scope: dict[str, Any], body: bytes
) -> tuple[WSGIResult | Exception, Context]:
    """Call the bridged Flask app in the pool: its result or error, and the context it ran in.

    ``async def`` views and hooks run on this loop (see :class:`BridgeFlask`).
    """
    app = flask_app(server)
    environ = build_environ(scope, body)
    loop = asyncio.get_running_loop()
    context = copy_context()
    context.run(_SERVER_LOOP.set, loop)
    pool = server_state(server).pool
    try:
        result = await pool.call(context.run, call_wsgi, app.wsgi_app, environ)
    except Exception as error:  # raised again in Quart's cycle, which handles it
        return error, context
    return result, context


async def bridged_view(**_view_args: Any) -> Response:
    """Serve the current Quart request with the bridged Flask app."""
    server = request_ctx.app
    # The Flask app saves the session cookie; Quart keeps a detached copy it never saves.
    request_ctx.session = DetachedSession(dict(request_ctx.session or {}))
    scope = cast(dict[str, Any], request.scope)
    outcome = direct.take_outcome(scope)
    if outcome is None:
        body = await request.get_data(cache=False, as_text=False)
        outcome = await call_flask(server, scope, cast(bytes, body))
    result, context = outcome
    if isinstance(result, Exception):
        raise result
    return to_quart_response(result, server_state(server).pool, context, request.method)
