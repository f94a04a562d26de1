"""Behaviour of bridged Flask views beyond parity: threads, loops, sessions, errors."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import flask
import pytest
import quart
from dash import Dash, Input, Output, html
from quart import Quart

import dash_quart
from dash_quart.testing import callback_body
from tests.flask_compat.legacy import teardown_log


def _probe_blueprint() -> flask.Blueprint:
    bp = flask.Blueprint("probe", __name__)

    @bp.route("/sync")
    def sync_view() -> dict[str, Any]:
        return {"thread": threading.current_thread().name}

    @bp.route("/async")
    async def async_view() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(0)
        return {
            "thread": threading.current_thread().name,
            "loop": id(loop),
            "path": flask.request.path,
        }

    @bp.route("/boom")
    def boom() -> str:
        raise RuntimeError("probe failure")

    @bp.route("/big", methods=["POST"])
    def big() -> dict[str, int]:
        return {"size": len(flask.request.get_data())}

    return bp


@pytest.fixture(name="probe")
def _probe(dash_app: Dash) -> Quart:
    server = dash_app.server
    dash_quart.register_flask_blueprint(server, _probe_blueprint(), url_prefix="/probe")

    @server.get("/loop-id")
    async def loop_id() -> dict[str, int]:
        return {"loop": id(asyncio.get_running_loop())}

    return server


async def test_sync_views_run_in_the_pool(probe: Quart) -> None:
    response = await probe.test_client().get("/probe/sync")
    assert (await response.get_json())["thread"].startswith("dash-quart-sync")


async def test_async_views_run_on_the_server_loop(probe: Quart) -> None:
    client = probe.test_client()
    result = await (await client.get("/probe/async")).get_json()
    server_loop = (await (await client.get("/loop-id")).get_json())["loop"]
    assert result["loop"] == server_loop == id(asyncio.get_running_loop())
    assert result["thread"] == threading.current_thread().name
    assert result["path"] == "/probe/async"


async def test_unhandled_error_is_a_logged_500(
    probe: Quart, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = await probe.test_client().get("/probe/boom")
    assert response.status_code == 500
    assert "probe failure" in caplog.text


async def test_unhandled_error_in_debug_shows_the_traceback(dash_app: Dash) -> None:
    dash_quart.register_flask_blueprint(dash_app.server, _probe_blueprint(), url_prefix="/probe")
    dash_app.server.debug = True
    dash_app.enable_dev_tools(debug=True, dev_tools_hot_reload=False)
    response = await dash_app.server.test_client().get("/probe/boom")
    assert response.status_code == 500
    body = await response.get_data(as_text=True)
    assert "RuntimeError" in body and "probe failure" in body


async def test_oversized_body_is_413(probe: Quart) -> None:
    response = await probe.test_client().post("/probe/big", data=b"x" * (65 * 1024))
    assert response.status_code == 413
    ok = await probe.test_client().post("/probe/big", data=b"x" * 1024)
    assert (await ok.get_json()) == {"size": 1024}


async def test_invalid_json_is_400(server: Quart) -> None:
    response = await server.test_client().post(
        "/legacy/json", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


async def test_teardown_runs_with_the_error(server: Quart) -> None:
    teardown_log.clear()
    client = server.test_client()
    await client.get("/legacy/context")
    await client.get("/legacy/boom")
    assert teardown_log == ["/legacy/context ok", "/legacy/boom ValueError"]


async def test_quart_url_for_builds_bridged_endpoints(server: Quart) -> None:
    async with server.test_request_context("/"):
        assert quart.url_for("legacy.echo", q="1") == "/legacy/echo?q=1"
        assert quart.url_for("legacy.admin.dashboard") == "/legacy/admin/dashboard"


async def test_quart_blueprints_are_unaffected(dash_app: Dash) -> None:
    bp = quart.Blueprint("native", __name__)

    @bp.get("/hello")
    async def hello() -> dict[str, bool]:
        return {"native": quart.has_request_context()}

    dash_app.server.register_blueprint(bp, url_prefix="/native")
    response = await dash_app.server.test_client().get("/native/hello")
    assert await response.get_json() == {"native": True}
    assert "native" in dash_app.server.blueprints


def test_endpoint_clash_names_the_fix(dash_app: Dash) -> None:
    bp = flask.Blueprint("clash", __name__)

    @bp.route("/x")
    def x() -> str:
        return "x"

    @dash_app.server.get("/other", endpoint="clash.x")
    async def other() -> str:
        return "other"

    with pytest.raises(ValueError, match=r"register_flask_blueprint\(server, bp, name=\.\.\.\)"):
        dash_quart.register_flask_blueprint(dash_app.server, bp)


def test_register_flask_blueprint_rejects_quart_blueprints(server: Quart) -> None:
    with pytest.raises(TypeError, match="server.register_blueprint"):
        dash_quart.register_flask_blueprint(server, quart.Blueprint("q", __name__))  # type: ignore[arg-type]


def test_flask_app_shares_the_quart_config(server: Quart) -> None:
    app = dash_quart.flask_app(server)
    assert app.config is server.config
    assert app.secret_key == "legacy-secret"
    assert dash_quart.flask_app(server) is app


async def test_session_is_shared_both_ways(dash_app: Dash) -> None:
    server = dash_app.server

    @server.post("/quart/session/<key>/<value>")
    async def quart_set(key: str, value: str) -> dict[str, str]:
        quart.session[key] = value
        return {"ok": key}

    @server.get("/quart/session")
    async def quart_get() -> dict[str, Any]:
        return dict(quart.session)

    dash_app.layout = html.Div([html.Button(id="btn"), html.Div(id="out")])

    @dash_app.callback(Output("out", "children"), Input("btn", "n_clicks"))
    def from_callback(clicks: int | None) -> str:
        quart.session["callback"] = f"clicked {clicks}"
        return str(quart.session.get("colour"))

    client = server.test_client()
    await client.post("/quart/session/route/quart-value")
    flask_view = await (await client.get("/legacy/session")).get_json()
    assert flask_view["session"]["route"] == "quart-value"

    await client.post("/legacy/session/colour/teal")
    seen_by_quart = await (await client.get("/quart/session")).get_json()
    assert seen_by_quart == {"route": "quart-value", "colour": "teal"}

    body = callback_body(("out", "children"), [("btn", "n_clicks", 2)])
    callback = await (await client.post("/_dash-update-component", json=body)).get_json()
    assert callback["response"]["out"]["children"] == "teal"
    flask_view = await (await client.get("/legacy/session")).get_json()
    assert flask_view["session"]["callback"] == "clicked 2"


async def test_flashes_survive_a_quart_redirect_target(server: Quart) -> None:
    client = server.test_client()
    first = await client.get("/legacy/flash")
    assert first.status_code == 302
    shown = await (await client.get("/legacy/flashes")).get_json()
    assert shown["messages"] == [["info", "saved"], ["warning", "careful"]]
    again = await (await client.get("/legacy/flashes")).get_json()
    assert again["messages"] == []


async def test_streaming_response_keeps_request_context(server: Quart) -> None:
    response = await server.test_client().get("/legacy/stream?n=3&word=w")
    assert await response.get_data(as_text=True) == "w 0\nw 1\nw 2\n"


async def test_quart_hooks_may_touch_the_session_on_bridged_requests(dash_app: Dash) -> None:
    server = dash_app.server

    @server.after_request
    async def touch_session(response: quart.Response) -> quart.Response:
        quart.session["quart_hook"] = "ran"
        return response

    client = server.test_client()
    await client.post("/legacy/session/colour/red")
    response = await client.get("/legacy/session")
    assert response.status_code == 200
    assert (await response.get_json())["session"]["colour"] == "red"


async def test_dash_quart_request_in_sync_callbacks(dash_app: Dash) -> None:
    dash_app.layout = html.Div([html.Button(id="b"), html.Div(id="o")])

    @dash_app.callback(Output("o", "children"), Input("b", "n_clicks"))
    def body_size(clicks: int | None) -> str:
        return str(sorted(dash_quart.request.get_json()))

    body = callback_body(("o", "children"), [("b", "n_clicks", 1)])
    response = await dash_app.server.test_client().post("/_dash-update-component", json=body)
    assert "changedPropIds" in (await response.get_json())["response"]["o"]["children"]
