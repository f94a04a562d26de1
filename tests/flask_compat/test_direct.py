"""Bridged requests served straight from the connection, and when Quart's cycle runs instead."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import flask
import httpx
import pytest
import quart
from dash import Dash, html
from quart import Quart
from quart.signals import request_started

import dash_quart
from dash_quart.flask_compat.direct import quart_cycle_is_idle
from dash_quart.testing import live_server


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
    bp = flask.Blueprint("direct_probe", __name__)

    @bp.route("/context", methods=["GET", "POST"])
    def context() -> dict[str, Any]:
        calls.count += 1
        return {
            "quart_request": quart.has_request_context(),
            "flask_request": flask.has_request_context(),
            "size": len(flask.request.get_data()),
        }

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
