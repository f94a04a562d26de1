from __future__ import annotations

import flask
import pytest
from dash import Dash, html
from quart import Quart

import dash_quart
from tests.flask_compat.legacy import bp

CONFIG = {
    "SECRET_KEY": "legacy-secret",
    "SITE_NAME": "Legacy Site",
    "LEGACY_SETTING": "from-config",
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # Quart's default is 12 hours, Flask's None; the bridge uses the Quart app's config.
    "SEND_FILE_MAX_AGE_DEFAULT": None,
}


@pytest.fixture(name="dash_app", params=["direct", "quart_cycle"])
def _dash_app(request: pytest.FixtureRequest) -> Dash:
    """A Dash app on Quart with the legacy blueprint bridged under /legacy.

    Each test runs twice: with bridged requests served straight from the connection (the
    Quart app has no hooks), and through Quart's request cycle.
    """
    app = Dash(__name__, backend="quart")
    app.layout = html.Div("dash layout", id="root")
    app.server.config.update(CONFIG)
    app.server.config["DASH_QUART_FLASK_DIRECT"] = request.param == "direct"

    @app.server.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    app.server.register_blueprint(bp, url_prefix="/legacy")
    return app


@pytest.fixture(name="server")
def _server(dash_app: Dash) -> Quart:
    return dash_app.server


@pytest.fixture(name="flask_reference")
def _flask_reference() -> flask.Flask:
    """The same blueprint served by plain Flask, the reference for parity."""
    app = flask.Flask(__name__)
    app.config.update(CONFIG)

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    app.register_blueprint(bp, url_prefix="/legacy")
    return app


def bridged(server: Quart) -> flask.Flask:
    return dash_quart.flask_app(server)
