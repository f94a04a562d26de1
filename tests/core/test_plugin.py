from __future__ import annotations

import threading
from importlib.metadata import entry_points

import pytest
import quart
from dash import Dash, Input, Output, html
from dash.backends._fastapi import FastAPIDashServer
from dash.backends._flask import FlaskDashServer
from dash.backends._quart import QuartDashServer

import dash_quart
from dash_quart.backend import UnsupportedDashVersionError, check_dash_version
from dash_quart.testing import callback_body
from tests.conftest import MakeApp


def test_entry_point_is_registered() -> None:
    names = {ep.value for ep in entry_points(group="dash_hooks")}
    assert "dash_quart.plugin" in names


def test_backend_quart_is_upgraded(make_app: MakeApp) -> None:
    app = make_app()
    assert type(app.backend) is dash_quart.QuartBackend
    assert "dash_quart" in app.server.extensions


def test_quart_server_instance_is_upgraded(make_app: MakeApp) -> None:
    server = quart.Quart(__name__)
    app = make_app(server=server, backend=None)
    assert type(app.backend) is dash_quart.QuartBackend
    assert app.server is server


def test_explicit_backend_class(make_app: MakeApp) -> None:
    app = make_app(backend=dash_quart.QuartBackend)
    assert type(app.backend) is dash_quart.QuartBackend


@pytest.mark.parametrize(
    ("backend", "expected"), [("flask", FlaskDashServer), ("fastapi", FastAPIDashServer)]
)
def test_other_backends_are_left_alone(make_app: MakeApp, backend: str, expected: type) -> None:
    app = make_app(backend=backend)
    assert type(app.backend) is expected
    assert not hasattr(app.server, "extensions") or "dash_quart" not in app.server.extensions


def _thread_callback_app(app: Dash) -> Dash:
    app.layout = html.Div([html.Button(id="btn"), html.Div(id="out")])

    @app.callback(Output("out", "children"), Input("btn", "n_clicks"))
    def where(_clicks: int | None) -> str:
        return threading.current_thread().name

    return app


async def test_auto_upgrade_can_be_turned_off(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASH_QUART_AUTO", "0")
    app = _thread_callback_app(make_app())
    assert type(app.backend) is QuartDashServer

    dash_quart.DashQuart(app)
    assert type(app.backend) is dash_quart.QuartBackend
    response = await app.server.test_client().post(
        "/_dash-update-component", json=callback_body(("out", "children"), [("btn", "n_clicks", 1)])
    )
    body = await response.get_json()
    assert body["response"]["out"]["children"].startswith("dash-quart-sync")


def test_applying_twice_is_harmless(make_app: MakeApp) -> None:
    app = make_app()
    backend = app.backend
    state = app.server.extensions["dash_quart"]
    dash_quart.DashQuart(app)
    dash_quart.DashQuart().init_app(app)
    assert app.backend is backend
    assert app.server.extensions["dash_quart"] is state


def test_dash_quart_rejects_flask_apps(make_app: MakeApp) -> None:
    with pytest.raises(TypeError, match="backend='quart'"):
        dash_quart.DashQuart(make_app(backend="flask"))


def test_supported_dash_version_passes() -> None:
    check_dash_version()


@pytest.mark.parametrize("version", ["4.1.0", "5.0.0", "3.2.0"])
def test_unsupported_dash_version_fails_loudly(version: str) -> None:
    with pytest.raises(UnsupportedDashVersionError, match=r"pip install 'dash\[quart\]>=4.2,<5'"):
        check_dash_version(version)


def test_changed_dash_internals_fail_loudly() -> None:
    class ChangedDash:
        pass

    with pytest.raises(UnsupportedDashVersionError, match="_initialize_context"):
        check_dash_version(dash_cls=ChangedDash)
