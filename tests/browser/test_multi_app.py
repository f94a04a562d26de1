from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import dash
import pytest
import quart
from dash import Dash, Input, Output, dcc, html
from playwright.sync_api import Page, expect

from dash_quart.testing import live_server

pytestmark = pytest.mark.browser

COLORS = {"/paged/": "rgb(0, 128, 0)", "/plain/": "rgb(0, 0, 255)"}


def _app(server: quart.Quart, prefix: str, assets: Path, **kwargs: object) -> Dash:
    assets.mkdir(parents=True)
    (assets / "marker.css").write_text(f"#title {{ color: {COLORS[prefix]}; }}")
    app = Dash(
        __name__,
        server=server,
        url_base_pathname=prefix,
        assets_folder=str(assets),
        websocket_callbacks=True,
        **kwargs,
    )
    return app


def _transport() -> str:
    return "websocket" if quart.has_websocket_context() else "http"


@pytest.fixture(name="url")
def _url(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    server = quart.Quart(__name__)
    sockets: list[str] = []
    paged = _app(server, "/paged/", tmp_path / "paged", use_pages=True, pages_folder="")
    dash.register_page("bt_home", path="/", layout=html.H2("home page", id="page-title"))
    dash.register_page("bt_report", path="/report", layout=html.H2("report page", id="page-title"))
    paged.layout = html.Div(
        [
            html.H1("paged app", id="title"),
            dcc.Link("to report", href="/paged/report", id="to-report"),
            dash.page_container,
            html.Button("ws", id="ws-btn"),
            html.Div(id="ws-out"),
        ]
    )

    @paged.callback(Output("ws-out", "children"), Input("ws-btn", "n_clicks"))
    def paged_sync(clicks: int | None) -> str:
        return f"paged sync {clicks} {_transport()} {threading.current_thread().name[:15]}"

    plain = _app(server, "/plain/", tmp_path / "plain")
    plain.layout = html.Div(
        [html.H1("plain app", id="title"), html.Button("go", id="btn"), html.Div(id="out")]
    )

    @plain.callback(Output("out", "children"), Input("btn", "n_clicks"))
    async def plain_async(clicks: int | None) -> str:
        await asyncio.sleep(0)
        return f"plain async {clicks} {_transport()}"

    @server.before_websocket
    async def _record() -> None:
        sockets.append(quart.websocket.path)

    with live_server(server) as base:
        yield base, sockets


def test_two_apps_with_pages_assets_and_websocket_callbacks(
    url: tuple[str, list[str]], page: Page
) -> None:
    base, sockets = url
    page.goto(f"{base}/paged/")
    expect(page.locator("#page-title")).to_have_text("home page")
    expect(page.locator("#title")).to_have_css("color", COLORS["/paged/"])
    page.click("#ws-btn")
    expect(page.locator("#ws-out")).to_have_text("paged sync 1 websocket dash-quart-sync")
    page.click("#to-report")
    expect(page.locator("#page-title")).to_have_text("report page")

    page.goto(f"{base}/plain/")
    expect(page.locator("#title")).to_have_css("color", COLORS["/plain/"])
    page.click("#btn")
    expect(page.locator("#out")).to_have_text("plain async 1 websocket")
    page.click("#btn")
    expect(page.locator("#out")).to_have_text("plain async 2 websocket")

    assert "/paged/_dash-ws-callback" in sockets
    assert "/plain/_dash-ws-callback" in sockets
