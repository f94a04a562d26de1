from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import dash
import quart
from dash import Dash, Input, Output, html

from dash_quart.testing import callback_body


def _app(server: quart.Quart, prefix: str, assets: Path, **kwargs: Any) -> Dash:
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "style.css").write_text(f"/* {prefix} */ body {{ color: red; }}")
    app = Dash(
        __name__,
        server=server,
        url_base_pathname=prefix,
        assets_folder=str(assets),
        websocket_callbacks=True,
        **kwargs,
    )
    app.layout = html.Div([html.Button(id="btn"), html.Div(id="out")])

    @app.callback(Output("out", "children"), Input("btn", "n_clicks"))
    def label(clicks: int | None) -> str:
        return f"{prefix} {clicks}"

    @app.callback(Output("out", "title"), Input("btn", "title"))
    async def async_label(title: str | None) -> str:
        return f"{prefix} async {title}"

    return app


def _two_apps(tmp_path: Path) -> tuple[quart.Quart, Dash, Dash]:
    server = quart.Quart(__name__)
    first = _app(server, "/first/", tmp_path / "first")
    second = _app(server, "/second/", tmp_path / "second")
    return server, first, second


async def test_callbacks_and_layouts_per_app(tmp_path: Path) -> None:
    server, _first, _second = _two_apps(tmp_path)
    client = server.test_client()
    for prefix in ("/first/", "/second/"):
        index = await client.get(prefix)
        assert index.status_code == 200
        assert f"{prefix}assets/style.css" in (await index.get_data(as_text=True))
        body = callback_body(("out", "children"), [("btn", "n_clicks", 3)])
        response = await client.post(f"{prefix}_dash-update-component", json=body)
        assert (await response.get_json())["response"]["out"]["children"] == f"{prefix} 3"


async def test_assets_per_app(tmp_path: Path) -> None:
    server, _first, _second = _two_apps(tmp_path)
    client = server.test_client()
    for prefix in ("/first/", "/second/"):
        response = await client.get(f"{prefix}assets/style.css")
        assert response.status_code == 200
        assert f"/* {prefix} */" in await response.get_data(as_text=True)


async def _ws_call(client: Any, prefix: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"Origin": "http://localhost", "Host": "localhost"}
    async with client.websocket(f"{prefix}_dash-ws-callback", headers=headers) as ws:
        await ws.send(
            json.dumps(
                {"type": "callback_request", "requestId": "r1", "rendererId": "x", "payload": body}
            )
        )
        async with asyncio.timeout(5):
            while True:
                for message in _messages(await ws.receive()):
                    if message.get("type") == "callback_response":
                        return message


def _messages(raw: str | bytes) -> list[dict[str, Any]]:
    decoded = json.loads(raw)
    return decoded if isinstance(decoded, list) else [decoded]


async def test_websocket_callbacks_per_app(tmp_path: Path) -> None:
    server, _first, _second = _two_apps(tmp_path)
    client = server.test_client()
    for prefix in ("/first/", "/second/"):
        await client.get(prefix)
        sync_body = callback_body(("out", "children"), [("btn", "n_clicks", 5)])
        sync = await _ws_call(client, prefix, sync_body)
        assert f"{prefix} 5" in json.dumps(sync)
        async_body = callback_body(("out", "title"), [("btn", "title", "t")])
        async_ = await _ws_call(client, prefix, async_body)
        assert f"{prefix} async t" in json.dumps(async_)


async def test_pages_next_to_another_app(tmp_path: Path) -> None:
    server = quart.Quart(__name__)
    paged = _app(server, "/paged/", tmp_path / "paged", use_pages=True, pages_folder="")
    dash.register_page("multi_home", path="/", layout=html.H1("home page"))
    dash.register_page("multi_report", path="/report", layout=html.H1("report page"))
    paged.layout = html.Div([dash.page_container, html.Button(id="btn"), html.Div(id="out")])
    _app(server, "/plain/", tmp_path / "plain")
    client = server.test_client()

    page = await client.get("/paged/report")
    assert page.status_code == 200
    dependencies = await (await client.get("/paged/_dash-dependencies")).get_json()
    router = next(d for d in dependencies if "_pages_content.children" in d["output"])
    body = {
        "output": router["output"],
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": "/paged/report"},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
        "state": [],
        "changedPropIds": ["_pages_location.pathname"],
    }
    response = await client.post("/paged/_dash-update-component", json=body)
    assert response.status_code == 200
    payload = await response.get_json()
    assert payload["response"]["_pages_content"]["children"]["props"]["children"] == "report page"

    plain = callback_body(("out", "children"), [("btn", "n_clicks", 1)])
    response = await client.post("/plain/_dash-update-component", json=plain)
    assert (await response.get_json())["response"]["out"]["children"] == "/plain/ 1"
