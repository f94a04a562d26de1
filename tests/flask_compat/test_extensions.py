"""Flask extensions initialised on dash_quart.flask_app(server) work in bridged views."""

from __future__ import annotations

import itertools

import flask
import flask_login
from dash import Dash
from flask_caching import Cache

import dash_quart


class User(flask_login.UserMixin):
    def __init__(self, user_id: str) -> None:
        self.id = user_id


USERS = {"ada", "grace"}


async def test_flask_login_in_bridged_views(dash_app: Dash) -> None:
    server = dash_app.server
    login_manager = flask_login.LoginManager()
    login_manager.init_app(dash_quart.flask_app(server))
    login_manager.login_view = "accounts.login_page"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return User(user_id) if user_id in USERS else None

    bp = flask.Blueprint("accounts", __name__)

    @bp.get("/login")
    def login_page() -> str:
        return "please log in"

    @bp.post("/login/<user_id>")
    def login(user_id: str) -> tuple[str, int]:
        if user_id not in USERS:
            return "unknown user", 401
        flask_login.login_user(User(user_id), remember=True)
        return "welcome", 200

    @bp.get("/me")
    @flask_login.login_required
    def me() -> dict[str, str]:
        return {"id": flask_login.current_user.id}

    @bp.post("/logout")
    def logout() -> str:
        flask_login.logout_user()
        return "bye"

    server.register_blueprint(bp, url_prefix="/accounts")
    client = server.test_client()

    anonymous = await client.get("/accounts/me")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/accounts/login?next=")

    assert (await client.post("/accounts/login/nobody")).status_code == 401
    logged_in = await client.post("/accounts/login/ada")
    assert logged_in.status_code == 200
    assert any(c.startswith("remember_token=") for c in logged_in.headers.getlist("Set-Cookie"))
    assert await (await client.get("/accounts/me")).get_json() == {"id": "ada"}

    await client.post("/accounts/logout")
    assert (await client.get("/accounts/me")).status_code == 302


async def test_flask_caching_cached_sync_view(dash_app: Dash) -> None:
    server = dash_app.server
    cache = Cache(dash_quart.flask_app(server), config={"CACHE_TYPE": "SimpleCache"})
    counter = itertools.count(1)
    bp = flask.Blueprint("reports", __name__)

    @bp.get("/report")
    @cache.cached(timeout=60, query_string=True)
    def report() -> dict[str, int | str]:
        return {"computed": next(counter), "region": flask.request.args.get("region", "all")}

    server.register_blueprint(bp, url_prefix="/reports")
    client = server.test_client()
    first = await (await client.get("/reports/report?region=eu")).get_json()
    second = await (await client.get("/reports/report?region=eu")).get_json()
    other = await (await client.get("/reports/report?region=us")).get_json()
    assert first == second == {"computed": 1, "region": "eu"}
    assert other == {"computed": 2, "region": "us"}
