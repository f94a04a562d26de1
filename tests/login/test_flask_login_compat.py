"""Cookies issued by real Flask-Login log the user in here, and the other way round."""

from __future__ import annotations

import asyncio
from typing import Any

import flask
import flask_login

from tests.login.conftest import SECRET, USERS, build_app


class FlaskUser(flask_login.UserMixin):
    def __init__(self, user_id: str) -> None:
        self.id = user_id


def _flask_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    manager = flask_login.LoginManager(app)

    @manager.user_loader
    def load(user_id: str) -> FlaskUser | None:
        return FlaskUser(user_id) if user_id in USERS else None

    @app.post("/login/<user_id>")
    def login(user_id: str) -> str:
        flask_login.login_user(FlaskUser(user_id), remember=True)
        return "ok"

    @app.get("/me")
    @flask_login.login_required
    def me() -> dict[str, Any]:
        return {"id": flask_login.current_user.get_id(), "fresh": flask_login.login_fresh()}

    return app


def _cookies(headers: Any) -> dict[str, str]:
    found = {}
    for header in headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        found[name] = rest.split(";", 1)[0]
    return found


def _flask_login_cookies() -> dict[str, str]:
    response = _flask_app().test_client().post(
        "/login/ada", headers={"User-Agent": "Quart"}, environ_base={"REMOTE_ADDR": "<local>"}
    )
    return _cookies(response.headers)


async def test_flask_login_session_cookie_works_here() -> None:
    cookies = await asyncio.to_thread(_flask_login_cookies)
    app, _ = build_app()
    client = app.test_client()
    client.set_cookie("localhost", "session", cookies["session"])
    assert await (await client.get("/me")).get_json() == {"id": "ada"}
    assert (await client.get("/fresh")).status_code == 200


async def test_flask_login_remember_cookie_works_here() -> None:
    cookies = await asyncio.to_thread(_flask_login_cookies)
    app, _ = build_app()
    client = app.test_client()
    client.set_cookie("localhost", "remember_token", cookies["remember_token"])
    assert await (await client.get("/me")).get_json() == {"id": "ada"}


async def test_our_cookies_work_in_flask_login() -> None:
    app, _ = build_app()
    response = await app.test_client().post("/login/grace?remember=1")
    cookies = _cookies(response.headers)

    def flask_side(names: tuple[str, ...]) -> Any:
        client = _flask_app().test_client()
        for name in names:
            client.set_cookie(name, cookies[name])
        reply = client.get("/me", headers={"User-Agent": "Quart"},
                           environ_base={"REMOTE_ADDR": "<local>"})
        return reply.status_code, reply.get_json()

    assert await asyncio.to_thread(flask_side, ("session",)) == (
        200, {"id": "grace", "fresh": True},
    )
    assert await asyncio.to_thread(flask_side, ("remember_token",)) == (
        200, {"id": "grace", "fresh": False},
    )
