"""Bridged Flask URLs served straight from the ASGI connection, when Quart would add nothing.

A bridged request normally runs Quart's whole request cycle around the Flask call: request
and app contexts, session, hooks, signals, error handling. When the Quart app has none of
those that could act on the request (no request hooks but the two Dash registers for its
first request, no signal receivers, the default cookie session), that cycle can neither
change the answer nor see it. :class:`DirectHTTPConnection` then reads the body, calls the
Flask app in the pool and sends Flask's answer as Flask made it. Anything else, and any
request whose Flask call raised or streams, goes through Quart's cycle as before, with the
Flask call's outcome handed over so that the view never runs twice.

Set ``DASH_QUART_FLASK_DIRECT = False`` to always run Quart's cycle.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Awaitable, Iterable
from contextvars import Context
from typing import Any, TypeVar, cast

from blinker import Signal
from hypercorn.typing import ASGIReceiveCallable, ASGIReceiveEvent, ASGISendCallable
from quart import Quart
from quart.asgi import ASGIHTTPConnection
from quart.sessions import SecureCookieSessionInterface
from quart.signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    got_request_exception,
    request_finished,
    request_started,
    request_tearing_down,
)
from quart.wrappers import Request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.sansio.request import Request as RoutingRequest

from ..config import DEFAULTS
from ..state import server_state

#: The scope key that carries a Flask call's outcome into Quart's cycle.
OUTCOME_KEY = "dash_quart.flask_outcome"
CONFIG_KEY = "DASH_QUART_FLASK_DIRECT"
#: Seconds the direct path waits for a request body before Quart's cycle takes it over.
BODY_WINDOW = 1.0
ROUTES_KEY = "dash_quart.flask_routes"
#: Routing verdicts kept per server before they are all dropped; the longest path and host kept.
MAX_REMEMBERED_SHAPES = 1024
MAX_REMEMBERED_PATH = 512
MAX_REMEMBERED_HOST = 255

T = TypeVar("T")

SIGNALS: tuple[Signal, ...] = (
    request_started,
    request_finished,
    request_tearing_down,
    got_request_exception,
    appcontext_pushed,
    appcontext_popped,
    appcontext_tearing_down,
)


def _any(registry: dict[Any, list[Any]]) -> bool:
    return any(registry.values())


def quart_cycle_is_idle(server: Quart) -> bool:
    """Whether Quart's request cycle would do nothing a bridged Flask view could notice."""
    if not server.config.get(CONFIG_KEY, DEFAULTS[CONFIG_KEY]):
        return False
    if type(server.session_interface) is not SecureCookieSessionInterface:
        return False
    if (
        _any(server.after_request_funcs)
        or _any(server.teardown_request_funcs)
        or _any(server.url_value_preprocessors)
        or server.teardown_appcontext_funcs
    ):
        return False
    dash_hooks = server_state(server).dash_hooks
    for funcs in server.before_request_funcs.values():
        if any(func not in dash_hooks for func in funcs):
            return False
    return not any(signal.has_receivers_for(server) for signal in SIGNALS)


def install(server: Quart) -> None:
    """Serve ``server``'s bridged URLs directly when its cycle is idle (see the module)."""
    if server.asgi_http_class is ASGIHTTPConnection:
        server.asgi_http_class = DirectHTTPConnection


def _declared_body(scope: dict[str, Any], limit: int | None) -> bool | None:
    """What the headers say of the body, read once.

    None if the direct path cannot take it (chunked, or a length that is not a number or is
    over ``limit``); True if HTTP/1 declares none (no Content-Length, so the server already
    has its end); False if one may still be coming.
    """
    length: bytes | None = None
    for name, value in scope["headers"]:
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            if not (value.isdigit() and (limit is None or int(value) <= limit)):
                return None
            length = value
    # HTTP/2 and 3 need not declare a body.
    return length is None and scope["http_version"] in ("1.0", "1.1")


def _replaying(messages: Iterable[ASGIReceiveEvent], receive: ASGIReceiveCallable) -> Any:
    pending = deque(messages)

    async def replayed() -> ASGIReceiveEvent:
        if pending:
            return pending.popleft()
        return await receive()

    return replayed


async def _read_body(
    receive: ASGIReceiveCallable,
    received: list[ASGIReceiveEvent],
    chunks: list[bytes],
    limit: int | None,
) -> bool | None:
    """Read the whole body into ``chunks``.

    True if the client left, False if Quart must take over (an unexpected message, or more
    than ``limit`` bytes: HTTP/2 bodies need not declare their length), else None.
    """
    size = 0
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return message["type"] == "http.disconnect"
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return None


def _routing_request(app: Quart, scope: dict[str, Any], host: str | None) -> RoutingRequest:
    """What Quart's URL adapter reads of the request (host, scheme, method, path, query).

    Quart's own request object also parses every header and prepares the body; routing
    needs none of that.
    """
    if host is None and scope["http_version"] < "1.1":  # as Quart fills it in
        host = app.config["SERVER_NAME"] or ""
    request = RoutingRequest(
        scope["method"],
        scope["scheme"],
        scope.get("server"),
        "",
        scope["path"],
        scope["query_string"],
        Headers() if host is None else Headers([("Host", host)]),
        None,
    )
    request.trusted_hosts = app.request_class.trusted_hosts
    return request


class _Routes:
    """Routing verdicts remembered per request shape: the endpoint matched, or None.

    A shape is what Quart routes on: method, scheme, HTTP version, host (or, without one,
    the server's address) and path. The verdicts are dropped when a rule is added to the
    URL map or the map is replaced, when the app gains an endpoint, and when its server name
    or subdomain settings change. A remembered endpoint is used only while its view is still
    the bridge.
    """

    __slots__ = ("added", "token", "url_map", "verdicts")

    def __init__(self) -> None:
        self.url_map: Map | None = None
        self.added = 0
        self.token: tuple[Any, ...] | None = None
        self.verdicts: dict[tuple[Any, ...], str | None] = {}

    def valid_for(self, app: Quart) -> dict[tuple[Any, ...], str | None]:
        if app.url_map is not self.url_map:
            self._count_additions(app.url_map)
        token = (
            self.added,
            len(app.view_functions),
            app.config["SERVER_NAME"],
            app.subdomain_matching,
            app.url_map.host_matching,
            app.url_map.default_subdomain,
        )
        if token != self.token:
            self.verdicts.clear()
            self.token = token
        return self.verdicts

    def _count_additions(self, url_map: Map) -> None:
        """Count the rules added to ``url_map`` from now on (every rule goes through ``add``)."""
        add = url_map.add

        def counted(rulefactory: Any) -> None:
            self.added += 1
            add(rulefactory)

        url_map.add = counted  # type: ignore[method-assign]
        self.url_map = url_map
        self.added += 1


def _route(app: Quart, scope: dict[str, Any], host: str | None) -> str | None:
    """The endpoint Quart routes the request to, or None (no match, a redirect, a bad host)."""
    try:
        adapter = app.create_url_adapter(cast(Request, _routing_request(app, scope, host)))
        if adapter is None:
            return None
        rule, _ = adapter.match(return_rule=True)
    except HTTPException:  # Quart's cycle answers these
        return None
    return cast(str, rule.endpoint)


if sys.version_info >= (3, 11):

    async def _within(seconds: float | None, step: Awaitable[T]) -> T:
        async with asyncio.timeout(seconds):
            return await step

else:  # pragma: no cover - Python 3.10

    async def _within(seconds: float | None, step: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(step, seconds)
        except asyncio.TimeoutError:
            raise TimeoutError from None


class DirectHTTPConnection(ASGIHTTPConnection):
    """Quart's HTTP connection, serving bridged Flask URLs without Quart's cycle when idle."""

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        received: list[ASGIReceiveEvent] = []
        if self._bridged():
            if await self._serve(receive, send, received):
                return
            if received:
                receive = _replaying(received, receive)
        await super().__call__(receive, send)

    def _bridged(self) -> bool:
        from .bridge import BRIDGE_KEY, bridged_view

        app = self.app
        if BRIDGE_KEY not in app.extensions or not quart_cycle_is_idle(app):
            return False
        scope = cast(dict[str, Any], self.scope)
        path: str = scope["path"]
        if scope.get("root_path") or not path.startswith("/"):
            return False  # rarer shapes (a root path, an absolute-form target) go to Quart
        host: str | None = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value.decode("latin-1")
                break
        if (
            app.request_class.trusted_hosts is not None  # a list that can change in place
            or len(path) > MAX_REMEMBERED_PATH
            or (host is not None and len(host) > MAX_REMEMBERED_HOST)
        ):
            endpoint = _route(app, scope, host)
        else:
            where = host if host is not None else scope.get("server")
            shape = (scope["method"], scope["scheme"], scope["http_version"], where, path)
            routes = app.extensions.get(ROUTES_KEY)
            if routes is None:
                routes = app.extensions[ROUTES_KEY] = _Routes()
            verdicts = cast(_Routes, routes).valid_for(app)
            try:
                endpoint = verdicts[shape]
            except KeyError:
                endpoint = _route(app, scope, host)
                if len(verdicts) >= MAX_REMEMBERED_SHAPES:
                    verdicts.clear()
                verdicts[shape] = endpoint
        return endpoint is not None and app.view_functions.get(endpoint) is bridged_view

    async def _serve(
        self, receive: ASGIReceiveCallable, send: ASGISendCallable, received: list[ASGIReceiveEvent]
    ) -> bool:
        """Answer the request; False, with what was received, if Quart's cycle must."""
        from .bridge import call_flask

        app = self.app
        scope = cast(dict[str, Any], self.scope)
        limit = app.config["MAX_CONTENT_LENGTH"]
        no_body = _declared_body(scope, limit)
        if no_body is None:
            return False
        chunks: list[bytes] = []
        reading = _read_body(receive, received, chunks, limit)
        if no_body:
            ended = await reading
        else:
            # A body still coming after BODY_WINDOW is left to Quart, whose BODY_TIMEOUT runs.
            window = min(app.config["BODY_TIMEOUT"] or BODY_WINDOW, BODY_WINDOW)
            try:
                ended = await _within(window, reading)
            except TimeoutError:
                return False
        if ended is not None:
            return ended
        outcome = await call_flask(app, scope, b"".join(chunks))
        result, _context = outcome
        if isinstance(result, BaseException) or result.body is None:
            scope[OUTCOME_KEY] = outcome
            return False
        # Encoded as Quart encodes its own responses' headers.
        headers = [(name.lower().encode(), value.encode()) for name, value in result.headers]
        status = int(result.status.split(" ", 1)[0])
        sending = _respond(send, status, headers, result.body)
        try:
            await _within(app.config["RESPONSE_TIMEOUT"], sending)
        except TimeoutError:  # a client too slow to read: given up on, as Quart does
            pass
        return True


async def _respond(
    send: ASGISendCallable, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def take_outcome(scope: dict[str, Any]) -> tuple[Any, Context] | None:
    """The Flask call's outcome handed over by :class:`DirectHTTPConnection`, once."""
    return cast("tuple[Any, Context] | None", scope.pop(OUTCOME_KEY, None))


__all__ = ["DirectHTTPConnection", "install", "quart_cycle_is_idle", "take_outcome"]
