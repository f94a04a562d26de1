"""Every request of the legacy suite gets the same answer from the bridge as from Flask."""

from __future__ import annotations

import asyncio
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

import flask
import httpx
import pytest
from quart import Quart

from dash_quart.testing import live_server
from tests.flask_compat.requests_suite import CALLS, COMPARED_HEADERS

Snapshot = dict[str, Any]


def _cookie_shape(values: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    shapes = []
    for value in values:
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(value)
        for name, morsel in cookie.items():
            shapes.append((name, tuple(sorted(k for k, v in morsel.items() if v))))
    return sorted(shapes)


def _snapshot(status: int, headers: Any, body: bytes, *, lengths: bool = True) -> Snapshot:
    names = [n for n in COMPARED_HEADERS if lengths or n != "Content-Length"]
    cookies = headers.get_list if hasattr(headers, "get_list") else headers.getlist
    return {
        "status": status,
        "body": body,
        "headers": {name: headers.get(name) for name in names},
        "cookies": _cookie_shape(cookies("Set-Cookie")),
    }


def _flask_run(app: flask.Flask, base_url: str, *, lengths: bool = True) -> list[Snapshot]:
    client = app.test_client()
    host = httpx.URL(base_url).host
    out = []
    for call in CALLS:
        for name, value in call.cookies.items():
            client.set_cookie(name, value, domain=host)
        response = client.open(call.target, base_url=base_url, method=call.method,
                               data=call.body, headers=call.headers,
                               environ_base={"REMOTE_ADDR": "127.0.0.1"})
        out.append(_snapshot(response.status_code, response.headers, response.get_data(),
                             lengths=lengths))
        response.close()
    return out


async def _quart_run(server: Quart) -> list[Snapshot]:
    client = server.test_client()
    out = []
    for call in CALLS:
        for name, value in call.cookies.items():
            client.set_cookie("localhost", name, value)
        path, _, query = call.target.partition("?")
        response = await client.open(
            path, method=call.method, data=call.body, headers=call.headers,
            query_string=parse_qs(query) or None,
            scope_base={"client": ("127.0.0.1", 50000)},
        )
        # Quart's test client rebuilds responses (and their Content-Length) from the body
        # it received; lengths are compared against the real server below.
        out.append(_snapshot(response.status_code, response.headers, await response.get_data(),
                             lengths=False))
    return out


def _httpx_run(base_url: str) -> list[Snapshot]:
    out = []
    with httpx.Client(base_url=base_url, trust_env=False, timeout=10) as client:
        for call in CALLS:
            for name, value in call.cookies.items():
                client.cookies.set(name, value)
            response = client.request(call.method, call.target, content=call.body,
                                      headers=call.headers)
            out.append(_snapshot(response.status_code, response.headers, response.content))
    return out


def _mismatches(expected: list[Snapshot], actual: list[Snapshot]) -> str:
    rows = [
        f"{call.method} {call.target}\n  flask:  {want}\n  bridge: {got}"
        for call, want, got in zip(CALLS, expected, actual, strict=True)
        if want != got
    ]
    return "\n".join(rows)


async def test_in_process_matches_flask(server: Quart, flask_reference: flask.Flask) -> None:
    expected = await asyncio.to_thread(_flask_run, flask_reference, "http://localhost",
                                       lengths=False)
    actual = await _quart_run(server)
    assert not _mismatches(expected, actual), _mismatches(expected, actual)


@pytest.mark.e2e
def test_hypercorn_matches_flask(server: Quart, flask_reference: flask.Flask) -> None:
    with live_server(server) as url:
        actual = _httpx_run(url)
        expected = _flask_run(flask_reference, url)
    assert not _mismatches(expected, actual), _mismatches(expected, actual)
