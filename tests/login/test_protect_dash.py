"""protect_dash: pages redirect, callbacks get 401 JSON, websockets close with 4401."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dash
import flask
import flask_login
import pytest
import quart
from dash import Dash, Input, Output, html
from dash_quart_login import LoginManager, current_user, login_user
from quart.testing.connections import WebsocketDisconnectError

import dash_quart
from dash_quart.testing import callback_body
from tests.login.conftest import SECRET, USERS


def _dash_app(server: quart.Quart, prefix: str, tmp: Path, requests_prefix: str = "") -> Dash:
    assets = tmp / prefix.strip("/").replace("/", "_")
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "site.css").write_text("body { margin: 0; }")
    app = Dash(__name__, server=server, routes_pathname_prefix=prefix,
               requests_pathname_prefix=requests_prefix or prefix,
               assets_folder=str(assets), websocket_callbacks=True)
    app.layout = html.Div([html.Button(id="btn"), html.Div(id="secret"), html.Div(id="public")])

    @app.callback(Output("secret", "children"), Input("btn", "n_clicks"))
    def secret(clicks: int | None) -> str:
        return f"secret for {current_user.get_id()}"

    @app.callback(Output("public", "children"), Input("btn", "title"))
    async def public(title: str | None) -> str:
        return f"public {title} for {current_user.get_id()}"

    return app


@pytest.fixture(name="server")
def _server(tmp_path: Path) -> quart.Quart:
    server = quart.Quart(__name__)
    server.config["SECRET_KEY"] = SECRET
    manager = LoginManager(server)
    manager.login_view = "login_page"

    @manager.user_loader
    async def load(user_id: str) -> Any:
        return USERS.get(user_id)

    @server.get("/auth/login")
    async def login_page() -> str:
        return "login form"

    @server.post("/auth/login/<user_id>")
    async def do_login(user_id: str) -> str:
        login_user(USERS[user_id])
        return "ok"

    first = _dash_app(server, "/app/", tmp_path)
    second = _dash_app(server, "/other/", tmp_path, requests_prefix="/proxy/other/")
    manager.protect_dash(first, public_callbacks=["public"])
    manager.protect_dash(second)
    return server


async def test_anonymous_page_load_redirects_with_safe_next(server: quart.Quart) -> None:
    client = server.test_client()
    response = await client.get("/app/reports/q3?tab=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=%2Fapp%2Freports%2Fq3%3Ftab%3D2"
    index = await client.get("/app/")
    assert index.headers["Location"] == "/auth/login?next=%2Fapp%2F"


async def test_requests_pathname_prefix_is_used_for_next(server: quart.Quart) -> None:
    response = await server.test_client().get("/other/page")
    assert response.headers["Location"] == "/auth/login?next=%2Fproxy%2Fother%2Fpage"


@pytest.mark.parametrize("prefix", ["/app/", "/other/"])
async def test_callbacks_get_401_json_never_a_redirect(server: quart.Quart, prefix: str) -> None:
    body = callback_body(("secret", "children"), [("btn", "n_clicks", 1)])
    response = await server.test_client().post(f"{prefix}_dash-update-component", json=body)
    assert response.status_code == 401
    assert response.content_type == "application/json"
    assert (await response.get_json())["error"]["status"] == 401
    layout = await server.test_client().get(f"{prefix}_dash-layout")
    assert layout.status_code == 401


async def test_public_callback_by_output_id(server: quart.Quart) -> None:
    body = callback_body(("public", "children"), [("btn", "title", "t")])
    response = await server.test_client().post("/app/_dash-update-component", json=body)
    assert response.status_code == 200
    assert (await response.get_json())["response"]["public"]["children"] == "public t for None"
    on_other_app = await server.test_client().post("/other/_dash-update-component", json=body)
    assert on_other_app.status_code == 401


async def test_public_callbacks_are_not_matched_by_source_text(server: quart.Quart) -> None:
    sneaky = callback_body(("secret", "children"), [("btn", "n_clicks", 1)])
    sneaky["output"] = "public.children"
    response = await server.test_client().post("/app/_dash-update-component", json=sneaky)
    assert response.status_code == 401


async def test_assets_and_scripts_stay_reachable(server: quart.Quart) -> None:
    client = server.test_client()
    assert (await client.get("/app/assets/site.css")).status_code == 200
    assert (await client.get("/app/_favicon.ico")).status_code == 200
    client_logged = server.test_client()
    await client_logged.post("/auth/login/ada")
    index_html = await (await client_logged.get("/app/")).get_data(as_text=True)
    script = next(
        part.split('"')[0] for part in index_html.split('src="')[1:]
        if "_dash-component-suites" in part
    )
    assert (await client.get(script)).status_code == 200


async def test_logged_in_user_gets_pages_and_callbacks(server: quart.Quart) -> None:
    client = server.test_client()
    await client.post("/auth/login/ada")
    assert (await client.get("/app/")).status_code == 200
    body = callback_body(("secret", "children"), [("btn", "n_clicks", 1)])
    response = await client.post("/app/_dash-update-component", json=body)
    assert (await response.get_json())["response"]["secret"]["children"] == "secret for ada"


async def test_websocket_callbacks_close_with_4401(server: quart.Quart) -> None:
    client = server.test_client()
    headers = {"Origin": "http://localhost", "Host": "localhost"}
    async with client.websocket("/app/_dash-ws-callback", headers=headers) as ws:
        with pytest.raises(WebsocketDisconnectError) as closed:
            await ws.receive()
    assert closed.value.args[0] == 4401

    await client.post("/auth/login/ada")
    await client.get("/app/")
    payload = callback_body(("secret", "children"), [("btn", "n_clicks", 2)])
    async with client.websocket("/app/_dash-ws-callback", headers=headers) as ws:
        await ws.send(json.dumps({"type": "callback_request", "requestId": "r",
                                  "rendererId": "x", "payload": payload}))
        message = await ws.receive()
    assert "secret for ada" in str(message)


async def test_public_pages_and_their_router_callback(tmp_path: Path) -> None:
    server = quart.Quart(__name__)
    server.config["SECRET_KEY"] = SECRET
    manager = LoginManager(server)
    manager.login_view = "/login"

    @manager.user_loader
    def load(user_id: str) -> Any:
        return USERS.get(user_id)

    app = Dash(__name__, server=server, use_pages=True, pages_folder="",
               assets_folder=str(tmp_path))
    dash.register_page("pp_login", path="/login", layout=html.H1("login page"))
    dash.register_page("pp_private", path="/private", layout=html.H1("private page"))
    app.layout = html.Div([dash.page_container])
    manager.protect_dash(app, public_routes=["/login"])
    client = server.test_client()

    assert (await client.get("/login")).status_code == 200
    assert (await client.get("/private")).status_code == 302
    assert (await client.get("/_dash-layout")).status_code == 200
    deps = await (await client.get("/_dash-dependencies")).get_json()
    router = next(d for d in deps if "_pages_content.children" in d["output"])

    def route(path: str) -> dict[str, Any]:
        return {
            "output": router["output"],
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "state": [], "changedPropIds": ["_pages_location.pathname"],
        }

    public = await client.post("/_dash-update-component", json=route("/login"))
    assert public.status_code == 200
    assert "login page" in await public.get_data(as_text=True)
    private = await client.post("/_dash-update-component", json=route("/private"))
    assert private.status_code == 401
    assert "private page" not in await private.get_data(as_text=True)


async def test_bridged_flask_views_see_the_same_user(server: quart.Quart) -> None:
    manager = server.login_manager  # type: ignore[attr-defined]
    dash_quart.DashQuart(server)
    manager.init_flask_app(dash_quart.flask_app(server))
    bp = flask.Blueprint("legacy", __name__)

    @bp.get("/whoami")
    @flask_login.login_required
    def whoami() -> dict[str, Any]:
        return {"id": flask_login.current_user.get_id()}

    server.register_blueprint(bp, url_prefix="/legacy")
    client = server.test_client()
    anonymous = await client.get("/legacy/whoami")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/auth/login?next=")
    await client.post("/auth/login/grace")
    assert await (await client.get("/legacy/whoami")).get_json() == {"id": "grace"}


async def test_wildcard_outputs_are_checked_too(tmp_path: Path) -> None:
    from dash import ALL

    server = quart.Quart(__name__)
    server.config["SECRET_KEY"] = SECRET
    manager = LoginManager(server)
    manager.login_view = "/login"

    @manager.user_loader
    def load(user_id: str) -> Any:
        return USERS.get(user_id)

    app = Dash(__name__, server=server, assets_folder=str(tmp_path))
    app.layout = html.Div([html.Button(id="btn"), html.Div(id="public"),
                           html.Div(id={"type": "secret", "index": 0})])

    @app.callback(Output("public", "children"),
                  Output({"type": "secret", "index": ALL}, "children"),
                  Input("btn", "n_clicks"))
    def both(clicks: int | None) -> tuple[str, list[str]]:
        return "public", ["secret data"]

    manager.protect_dash(app, public_callbacks=["public"])
    output = '..public.children...{"index":["ALL"],"type":"secret"}.children..'
    body = {
        "output": output,
        "outputs": [{"id": "public", "property": "children"},
                    [{"id": {"type": "secret", "index": 0}, "property": "children"}]],
        "inputs": [{"id": "btn", "property": "n_clicks", "value": 1}],
        "state": [], "changedPropIds": ["btn.n_clicks"],
    }
    response = await server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 401
    assert "secret data" not in await response.get_data(as_text=True)
