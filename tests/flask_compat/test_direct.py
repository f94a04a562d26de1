"""Bridged requests served straight from the connection, and when Quart's cycle runs instead."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import flask
import httpx
import pytest
import quart
from dash import Dash, html
from quart import Quart
from quart.sessions import SecureCookieSessionInterface
from quart.signals import request_started

import dash_quart
from dash_quart.flask_compat.direct import SIGNALS, quart_cycle_is_idle
from dash_quart.testing import live_server

#: The Dash app of each test server, for tests that need it.
server_of: dict[Quart, Dash] = {}


class Calls:
    def __init__(self) -> None:
        self.count = 0


@pytest.fixture(name="calls")
def _calls() -> Calls:
    return Calls()


@pytest.fixture(name="server")
def _server(calls: Calls) -> Quart:
    """A Dash app with one bridged blueprint, and no hooks of its own on the Quart app."""
    app = Dash(__name__, backend="quart")
    app.layout = html.Div("layout")
    app.server.config["SECRET_KEY"] = "direct-secret"
    server_of[app.server] = app
    bp = flask.Blueprint("direct_probe", __name__)

    @bp.route("/context", methods=["GET", "POST"])
    def context() -> dict[str, Any]:
        calls.count += 1
        return {
            "quart_request": quart.has_request_context(),
            "flask_request": flask.has_request_context(),
            "size": len(flask.request.get_data()),
        }

    @bp.route("/visits")
    def visits() -> dict[str, int]:
        flask.session.permanent = True
        flask.session["visits"] = flask.session.get("visits", 0) + 1
        return {"visits": flask.session["visits"]}

    @bp.route("/greeting")
    def greeting() -> flask.Response:
        response = flask.make_response("hello")
        response.headers["X-Greeting"] = "Grüß Gott €"
        return response

    dash_quart.register_flask_blueprint(app.server, bp, url_prefix="/probe")
    return app.server


async def _context(server: Quart) -> dict[str, Any]:
    response = await server.test_client().get("/probe/context")
    assert response.status_code == 200
    return dict(await response.get_json())


async def test_an_idle_quart_cycle_is_skipped(server: Quart) -> None:
    assert quart_cycle_is_idle(server)

    found = await _context(server)

    assert found == {"quart_request": False, "flask_request": True, "size": 0}


async def test_the_config_switch_keeps_quart_s_cycle(server: Quart) -> None:
    server.config["DASH_QUART_FLASK_DIRECT"] = False

    assert not quart_cycle_is_idle(server)
    assert (await _context(server))["quart_request"] is True


async def test_a_quart_before_request_hook_guards_bridged_views(
    server: Quart, calls: Calls
) -> None:
    @server.before_request
    async def deny() -> tuple[str, int] | None:
        if quart.request.headers.get("X-Token") != "letmein":
            return "denied", 401
        return None

    denied = await server.test_client().get("/probe/context")
    allowed = await server.test_client().get("/probe/context", headers={"X-Token": "letmein"})

    assert denied.status_code == 401
    assert await denied.get_data() == b"denied"
    assert allowed.status_code == 200
    assert calls.count == 1  # the Flask view never ran for the denied request


async def test_a_quart_after_request_hook_sees_bridged_responses(server: Quart) -> None:
    @server.after_request
    async def tag(response: quart.Response) -> quart.Response:
        response.headers["X-Quart-Hook"] = "ran"
        return response

    response = await server.test_client().get("/probe/context")

    assert response.headers["X-Quart-Hook"] == "ran"
    assert (await response.get_json())["quart_request"] is True


async def test_a_guard_added_through_dash_s_backend_guards_bridged_views(
    server: Quart, calls: Calls
) -> None:
    async def deny() -> tuple[str, int]:
        return "denied", 401

    server_of[server].backend.before_request(deny)

    response = await server.test_client().get("/probe/context")

    assert response.status_code == 401
    assert calls.count == 0


async def test_a_signal_receiver_sends_bridged_requests_through_quart(server: Quart) -> None:
    seen: list[str] = []

    async def started(sender: Quart, **extra: Any) -> None:
        seen.append(quart.request.path)

    request_started.connect(started, sender=server)
    try:
        found = await _context(server)
    finally:
        request_started.disconnect(started, sender=server)

    assert seen == ["/probe/context"]
    assert found["quart_request"] is True


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "quart_cycle"])
async def test_a_permanent_session_keeps_counting(server: Quart, direct: bool) -> None:
    """Quart's cycle must not save its stale copy of the session over Flask's cookie."""
    server.config["DASH_QUART_FLASK_DIRECT"] = direct
    client = server.test_client()

    counts = [(await (await client.get("/probe/visits")).get_json())["visits"] for _ in range(3)]

    assert counts == [1, 2, 3]


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "quart_cycle"])
async def test_header_values_are_encoded_as_quart_encodes_them(
    server: Quart, direct: bool
) -> None:
    server.config["DASH_QUART_FLASK_DIRECT"] = direct
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await server(_scope("GET", "/probe/greeting", "1.1"), _receive([b""]), send)

    assert sent[0]["status"] == 200
    assert (b"x-greeting", "Grüß Gott €".encode()) in sent[0]["headers"]


async def test_a_body_without_length_over_the_limit_gets_413_without_the_view(
    server: Quart, calls: Calls
) -> None:
    """HTTP/2 bodies need not declare a length; the limit holds while they are read."""
    server.config["MAX_CONTENT_LENGTH"] = 1024
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await server(_scope("POST", "/probe/context", "2"), _receive([b"a" * 800] * 4), send)

    assert sent[0]["status"] == 413
    assert calls.count == 0


def _scope(method: str, path: str, http_version: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
        "extensions": {},
    }


def _receive(bodies: list[bytes]) -> Any:
    messages = [
        {"type": "http.request", "body": body, "more_body": n < len(bodies) - 1}
        for n, body in enumerate(bodies)
    ]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        return {"type": "http.disconnect"}

    return receive


def _teardown_request(server: Quart) -> None:
    server.teardown_request(lambda error: None)


def _url_value_preprocessor(server: Quart) -> None:
    server.url_value_preprocessor(lambda endpoint, values: None)


def _teardown_appcontext(server: Quart) -> None:
    server.teardown_appcontext(lambda error: None)


def _blueprint_hook(server: Quart) -> None:
    server.before_request_funcs.setdefault("direct_probe", []).append(lambda: None)


def _session_interface(server: Quart) -> None:
    class Mine(SecureCookieSessionInterface):
        pass

    server.session_interface = Mine()


@pytest.mark.parametrize(
    "register",
    [_teardown_request, _url_value_preprocessor, _teardown_appcontext, _blueprint_hook,
     _session_interface],  # fmt: skip
)
async def test_anything_in_quart_s_cycle_keeps_it(
    server: Quart, register: Callable[[Quart], None]
) -> None:
    register(server)

    assert not quart_cycle_is_idle(server)
    assert (await _context(server))["quart_request"] is True


@pytest.mark.parametrize("signal", SIGNALS, ids=lambda signal: signal.name)
async def test_every_quart_signal_with_a_receiver_keeps_the_cycle(
    server: Quart, signal: Any
) -> None:
    def receiver(sender: Quart, **extra: Any) -> None:
        return None

    signal.connect(receiver, sender=server)
    try:
        assert not quart_cycle_is_idle(server)
        assert (await _context(server))["quart_request"] is True
    finally:
        signal.disconnect(receiver, sender=server)


def test_dash_s_own_hooks_leave_the_cycle_idle() -> None:
    """If Dash registers request hooks some other way, bridged views lose the direct path."""
    plain = Dash(__name__, backend="quart")
    pages = Dash(__name__, backend="quart", use_pages=True, pages_folder="")

    assert quart_cycle_is_idle(plain.server)
    assert quart_cycle_is_idle(pages.server)

    @plain.server.before_request
    async def mine() -> None:
        return None

    assert not quart_cycle_is_idle(plain.server)


# Failure paths on a real Hypercorn server, with raw sockets for what httpx will not send.


@pytest.fixture(name="url")
def _url(server: Quart) -> Iterator[str]:
    server.config["BODY_TIMEOUT"] = 0.5
    server.config["MAX_CONTENT_LENGTH"] = 1024
    with live_server(server) as url:
        yield url


def _raw(url: str, head: str, body: bytes = b"", *, read: bool = True) -> bytes:
    host, port = httpx.URL(url).host, httpx.URL(url).port
    assert port is not None
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        if not read:
            return b""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def test_a_chunked_body_is_read_by_quart(url: str, calls: Calls) -> None:
    def parts() -> Iterator[bytes]:
        yield b"x" * 300
        yield b"y" * 200

    response = httpx.post(f"{url}/probe/context", content=parts(), trust_env=False)

    assert response.status_code == 200
    assert response.json()["size"] == 500
    assert calls.count == 1


def test_a_body_over_the_limit_gets_413_without_the_view(url: str, calls: Calls) -> None:
    response = httpx.post(f"{url}/probe/context", content=b"z" * 2048, trust_env=False)

    assert response.status_code == 413
    assert calls.count == 0


def test_a_body_that_stops_coming_gets_408_without_the_view(url: str, calls: Calls) -> None:
    head = "POST /probe/context HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n"

    answer = _raw(url, head, b"only ten b")

    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert calls.count == 0


def test_a_client_that_leaves_mid_body_runs_no_view(url: str, calls: Calls) -> None:
    head = "POST /probe/context HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n"
    _raw(url, head, b"partial", read=False)

    # The server goes on answering, and the abandoned request never reached Flask.
    response = httpx.post(f"{url}/probe/context", content=b"ok", trust_env=False)

    assert response.status_code == 200
    assert json.loads(response.content)["size"] == 2
    assert calls.count == 1


def _quart_routes_to_bridge(server: Quart, scope: dict[str, Any]) -> bool:
    """Whether Quart itself, with its own request object, routes ``scope`` to a bridged view."""
    from quart.asgi import ASGIHTTPConnection
    from werkzeug.exceptions import HTTPException

    from dash_quart.flask_compat.bridge import bridged_view

    async def send(message: Any) -> None:
        raise AssertionError("routing sends nothing")

    request = ASGIHTTPConnection(server, scope)._create_request_from_scope(send)  # type: ignore[arg-type]
    adapter = server.create_url_adapter(request)
    assert adapter is not None
    try:
        rule, _ = adapter.match(return_rule=True)
    except HTTPException:
        return False
    return server.view_functions.get(rule.endpoint) is bridged_view


ROUTING_CASES: dict[str, dict[str, Any]] = {
    "bridged": {},
    "bridged, POST with a query": {"method": "POST", "query_string": b"a=1&b=2"},
    "bridged, host with a port": {"headers": [(b"host", b"LocalHost:8050")]},
    "bridged, HTTP/1.0 without a host": {"http_version": "1.0", "headers": []},
    "a Dash route": {"path": "/_dash-layout"},
    "unknown path": {"path": "/nowhere"},
    "under the prefix, unmatched": {"path": "/probe/nothing/here"},
    "redirect to the slash": {"path": "/probe"},
    "server name configured, other host": {"server_name": "example.test"},
    "server name configured, subdomain": {
        "server_name": "example.test",
        "headers": [(b"host", b"api.example.test")],
    },
    "server name configured, its host": {
        "server_name": "example.test",
        "headers": [(b"host", b"example.test")],
    },
    "root path": {"root_path": "/mounted", "path": "/mounted/probe/context"},
    "absolute-form target": {"path": "http://localhost/probe/context"},
}


#: Shapes the direct path leaves to Quart's own routing, which is always correct.
LEFT_TO_QUART = {"root path", "absolute-form target"}


@pytest.mark.filterwarnings("ignore:Current server name")  # Quart warns of the other host
@pytest.mark.parametrize("case", ROUTING_CASES, ids=list(ROUTING_CASES))
async def test_the_direct_path_routes_as_quart_does(server: Quart, case: str) -> None:
    """The direct path routes from the scope alone; it must pick bridged URLs as Quart does."""
    from dash_quart.flask_compat.direct import DirectHTTPConnection

    changes = dict(ROUTING_CASES[case])
    server.config["SERVER_NAME"] = changes.pop("server_name", None)
    scope = {**_scope("GET", "/probe/context", "1.1"), **changes}

    ours = DirectHTTPConnection(server, scope)._bridged()  # type: ignore[arg-type]
    remembered = DirectHTTPConnection(server, scope)._bridged()  # type: ignore[arg-type]

    assert remembered == ours
    if case in LEFT_TO_QUART:
        assert ours is False
    else:
        assert ours == _quart_routes_to_bridge(server, scope)
    if case.startswith("bridged") or case.endswith("its host"):
        assert ours is True


async def test_an_untrusted_host_is_left_to_quart(
    server: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dash_quart.flask_compat.direct import DirectHTTPConnection

    monkeypatch.setattr(server.request_class, "trusted_hosts", ["example.test"])
    trusted = {**_scope("GET", "/probe/context", "1.1"), "headers": [(b"host", b"example.test")]}
    untrusted = {**_scope("GET", "/probe/context", "1.1"), "headers": [(b"host", b"evil.test")]}

    assert DirectHTTPConnection(server, trusted)._bridged() is True  # type: ignore[arg-type]
    assert DirectHTTPConnection(server, untrusted)._bridged() is False  # type: ignore[arg-type]


def _bridged(server: Quart, path: str, host: bytes = b"localhost") -> bool:
    from dash_quart.flask_compat.direct import DirectHTTPConnection

    scope = {**_scope("GET", path, "1.1"), "headers": [(b"host", host)]}
    return DirectHTTPConnection(server, scope)._bridged()  # type: ignore[arg-type]


async def test_remembered_routes_follow_a_blueprint_registered_later(server: Quart) -> None:
    assert _bridged(server, "/late/hello") is False  # remembered: no such route
    late = flask.Blueprint("late", __name__)
    late.add_url_rule("/hello", view_func=lambda: "late hello")
    dash_quart.register_flask_blueprint(server, late, url_prefix="/late")

    assert _bridged(server, "/late/hello") is True
    response = await server.test_client().get("/late/hello")
    assert (response.status_code, await response.get_data()) == (200, b"late hello")


async def test_a_remembered_endpoint_counts_only_while_it_is_bridged(server: Quart) -> None:
    assert _bridged(server, "/probe/greeting") is True

    async def quart_greeting() -> str:
        return "from quart"

    server.view_functions["direct_probe.greeting"] = quart_greeting

    assert _bridged(server, "/probe/greeting") is False
    response = await server.test_client().get("/probe/greeting")
    assert await response.get_data() == b"from quart"


@pytest.mark.filterwarnings("ignore:Current server name")
async def test_remembered_routes_follow_the_server_name(server: Quart) -> None:
    assert _bridged(server, "/probe/greeting", b"localhost") is True
    server.config["SERVER_NAME"] = "example.test"

    assert _bridged(server, "/probe/greeting", b"localhost") is False
    assert _bridged(server, "/probe/greeting", b"example.test") is True


def test_remembered_routes_are_bounded(server: Quart) -> None:
    from dash_quart.flask_compat import direct

    for n in range(direct.MAX_REMEMBERED_SHAPES + 10):
        _bridged(server, f"/probe/nothing-{n}")
    _bridged(server, "/probe/" + "x" * direct.MAX_REMEMBERED_PATH)

    routes = server.extensions[direct.ROUTES_KEY]
    assert 0 < len(routes.verdicts) <= direct.MAX_REMEMBERED_SHAPES
    assert all(len(shape[-1]) <= direct.MAX_REMEMBERED_PATH for shape in routes.verdicts)


async def test_remembered_routes_follow_a_rule_added_to_an_existing_endpoint(
    server: Quart,
) -> None:
    async def quart_page() -> str:
        return "from quart"

    server.add_url_rule("/quart-page", "quart_page", quart_page)
    # Quart matches this bridged catch-all (/probe/<path:_unmatched>) until a rule shadows it.
    assert _bridged(server, "/probe/special") is True
    server.add_url_rule("/probe/special", "quart_page", quart_page)  # no new endpoint

    assert _bridged(server, "/probe/special") is False
    response = await server.test_client().get("/probe/special")
    assert await response.get_data() == b"from quart"


async def test_trusted_hosts_set_later_leave_untrusted_hosts_to_quart(
    server: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _bridged(server, "/probe/greeting", b"evil.test") is True
    monkeypatch.setattr(server.request_class, "trusted_hosts", ["localhost"])

    assert _bridged(server, "/probe/greeting", b"evil.test") is False
    assert _bridged(server, "/probe/greeting", b"localhost") is True


async def test_a_failing_close_of_a_streamed_response_is_logged(
    server: Quart, caplog: pytest.LogCaptureFixture
) -> None:
    bp = flask.Blueprint("closing", __name__)

    class Chunks:
        def __iter__(self) -> Iterator[bytes]:
            return iter([b"one ", b"two"])

        def close(self) -> None:
            raise ValueError("close failed")

    @bp.route("/stream")
    def stream() -> flask.Response:
        return flask.Response(Chunks())

    dash_quart.register_flask_blueprint(server, bp, url_prefix="/closing")

    response = await server.test_client().get("/closing/stream")

    assert await response.get_data() == b"one two"
    deadline = time.monotonic() + 5
    while "Closing a streamed Flask response failed" not in caplog.text:
        assert time.monotonic() < deadline, "the failed close was not logged"
        await asyncio.sleep(0.01)
    assert "close failed" in caplog.text
