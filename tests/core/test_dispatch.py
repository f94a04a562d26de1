from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import dash
import pytest
from dash import Dash, Input, Output, State, ctx, html, set_props
from quart import g, request

import dash_quart
from dash_quart.concurrency import sync_workers
from dash_quart.testing import callback_body
from tests.conftest import MakeApp

LOOP_THREAD = threading.current_thread().name


def _app_with_callbacks(make_app: MakeApp) -> Dash:
    app = make_app()
    app.layout = html.Div(
        [
            html.Button(id="sync-btn"),
            html.Button(id="async-btn"),
            html.Div(id="sync-out"),
            html.Div(id="async-out"),
            html.Div(id="side"),
            html.Div(id="state-src", title="kept"),
        ]
    )

    @app.server.before_request
    async def _mark_request() -> None:
        g.marker = "set-by-before-request"

    @app.callback(
        Output("sync-out", "children"), Input("sync-btn", "n_clicks"), State("state-src", "title")
    )
    def sync_callback(clicks: int | None, title: str) -> dict[str, Any]:
        set_props("side", {"children": f"side effect {clicks}"})
        return {
            "thread": threading.current_thread().name,
            "triggered_id": ctx.triggered_id,
            "inputs": dash.callback_context.inputs,
            "states": dash.callback_context.states,
            "path": request.path,
            "g": g.marker,
        }

    @app.callback(Output("async-out", "children"), Input("async-btn", "n_clicks"))
    async def async_callback(clicks: int | None) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {
            "thread": threading.current_thread().name,
            "triggered_id": ctx.triggered_id,
            "path": request.path,
            "g": g.marker,
        }

    return app


async def test_sync_callback_runs_in_pool_with_context(make_app: MakeApp) -> None:
    app = _app_with_callbacks(make_app)
    body = callback_body(
        ("sync-out", "children"), [("sync-btn", "n_clicks", 2)], [("state-src", "title", "kept")]
    )
    response = await app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 200
    payload = await response.get_json()
    result = payload["response"]["sync-out"]["children"]
    assert result["thread"].startswith("dash-quart-sync")
    assert result["triggered_id"] == "sync-btn"
    assert result["inputs"] == {"sync-btn.n_clicks": 2}
    assert result["states"] == {"state-src.title": "kept"}
    assert result["path"] == "/_dash-update-component"
    assert result["g"] == "set-by-before-request"
    assert payload["sideUpdate"] == {"side": {"children": "side effect 2"}}


async def test_async_callback_stays_on_the_loop(make_app: MakeApp) -> None:
    app = _app_with_callbacks(make_app)
    body = callback_body(("async-out", "children"), [("async-btn", "n_clicks", 1)])
    response = await app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 200
    result = (await response.get_json())["response"]["async-out"]["children"]
    assert result["thread"] == threading.current_thread().name
    assert not result["thread"].startswith("dash-quart-sync")
    assert result["triggered_id"] == "async-btn"
    assert result["g"] == "set-by-before-request"


async def test_prevent_update_in_sync_callback_is_204(make_app: MakeApp) -> None:
    app = make_app()
    app.layout = html.Div([html.Button(id="b"), html.Div(id="o")])

    @app.callback(Output("o", "children"), Input("b", "n_clicks"))
    def never(_clicks: int | None) -> str:
        raise dash.exceptions.PreventUpdate

    body = callback_body(("o", "children"), [("b", "n_clicks", 1)])
    response = await app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 204


async def test_sync_layout_function_runs_in_pool(make_app: MakeApp) -> None:
    app = make_app()
    app.layout = lambda: html.Div(threading.current_thread().name, id="where")
    response = await app.server.test_client().get("/_dash-layout")
    assert response.status_code == 200
    assert (await response.get_json())["props"]["children"].startswith("dash-quart-sync")


def test_pool_size_from_env(make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASH_QUART_SYNC_WORKERS", "7")
    app = make_app()
    assert app.backend.pool.max_workers == 7


def test_pool_size_set_in_config_after_dash(make_app: MakeApp) -> None:
    app = make_app()
    app.server.config["DASH_QUART_SYNC_WORKERS"] = 9
    assert app.backend.pool.max_workers == 9


async def test_user_sync_views_and_hooks_run_in_pool(make_app: MakeApp) -> None:
    app = make_app()
    app.layout = html.Div()
    seen: dict[str, str] = {}

    @app.server.before_request
    def sync_hook() -> None:
        seen["hook"] = threading.current_thread().name

    @app.server.get("/plain-def")
    def plain_def() -> dict[str, str]:
        return {"thread": threading.current_thread().name, "path": request.path}

    response = await app.server.test_client().get("/plain-def")
    result = await response.get_json()
    assert result["thread"].startswith("dash-quart-sync")
    assert result["path"] == "/plain-def"
    assert seen["hook"].startswith("dash-quart-sync")


def test_pool_size_default_and_config() -> None:
    assert sync_workers({}) == 40
    assert sync_workers({"DASH_QUART_SYNC_WORKERS": "12"}) == 12


@pytest.mark.parametrize("bad", ["zero", "0", "-3"])
def test_bad_pool_size_names_the_setting(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("DASH_QUART_SYNC_WORKERS", bad)
    with pytest.raises(ValueError, match="DASH_QUART_SYNC_WORKERS must be a positive integer"):
        sync_workers()


REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")


async def test_run_sync_preserves_context(make_app: MakeApp) -> None:
    app = make_app()
    app.layout = html.Div()

    def blocking(x: int, *, y: int) -> tuple[str, str, int]:
        return threading.current_thread().name, REQUEST_ID.get(), x + y

    @app.server.get("/blocking")
    async def view() -> dict[str, Any]:
        REQUEST_ID.set("req-42")
        thread, request_id, total = await dash_quart.run_sync(blocking, 1, y=2)
        return {"thread": thread, "request_id": request_id, "total": total, "path": request.path}

    response = await app.server.test_client().get("/blocking")
    result = await response.get_json()
    assert result["thread"].startswith("dash-quart-sync")
    assert result["request_id"] == "req-42"
    assert result["total"] == 3


async def test_run_sync_outside_an_app() -> None:
    REQUEST_ID.set("outside")
    name, value = await dash_quart.run_sync(
        lambda: (threading.current_thread().name, REQUEST_ID.get())
    )
    assert name.startswith("dash-quart-sync")
    assert value == "outside"


async def test_run_sync_rejects_coroutine_functions() -> None:
    async def already_async() -> None:
        return None

    with pytest.raises(TypeError, match="await it directly"):
        await dash_quart.run_sync(already_async)  # type: ignore[arg-type]
