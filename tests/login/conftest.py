from __future__ import annotations

from typing import Any

import pytest
from dash_quart_login import (
    LoginManager,
    UserMixin,
    current_user,
    fresh_login_required,
    login_required,
    login_user,
    logout_user,
    safe_next_url,
)
from quart import Quart, request


class User(UserMixin):
    def __init__(self, user_id: str, active: bool = True) -> None:
        self.id = user_id
        self.active = active

    @property
    def is_active(self) -> bool:
        return self.active


USERS = {"ada": User("ada"), "grace": User("grace"), "ghost": User("ghost", active=False)}
SECRET = "a test secret key that is long enough"


def build_app(loader: str = "async") -> tuple[Quart, LoginManager]:
    app = Quart(__name__)
    app.config["SECRET_KEY"] = SECRET
    manager = LoginManager(app)
    manager.login_view = "login_page"
    app.config["LOADS"] = []

    if loader == "async":

        @manager.user_loader
        async def load_user(user_id: str) -> User | None:
            app.config["LOADS"].append(user_id)
            return USERS.get(user_id)
    else:

        @manager.user_loader
        def load_user_sync(user_id: str) -> User | None:
            app.config["LOADS"].append(user_id)
            return USERS.get(user_id)

    @app.get("/login")
    async def login_page() -> str:
        return "login page"

    @app.post("/login/<user_id>")
    async def do_login(user_id: str) -> Any:
        user = USERS.get(user_id)
        remember = request.args.get("remember") == "1"
        force = request.args.get("force") == "1"
        if user is None or not login_user(user, remember=remember, force=force):
            return {"ok": False}, 401
        return {"ok": True, "next": safe_next_url("/home")}

    @app.post("/logout")
    async def do_logout() -> dict[str, bool]:
        logout_user()
        return {"ok": True}

    @app.get("/me")
    @login_required
    async def me() -> dict[str, Any]:
        return {"id": current_user.get_id()}

    @app.get("/me-sync")
    @login_required
    def me_sync() -> dict[str, Any]:
        return {"id": current_user.get_id()}

    @app.get("/fresh")
    @fresh_login_required
    async def fresh() -> dict[str, bool]:
        return {"fresh": True}

    @app.get("/whoami")
    async def whoami() -> dict[str, Any]:
        return {"id": current_user.get_id(), "anonymous": current_user.is_anonymous}

    return app, manager


@pytest.fixture(name="app")
def _app() -> Quart:
    return build_app()[0]
