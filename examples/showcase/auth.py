"""Sign-in with dash_quart_login: an async user loader over SQLite, and logout everywhere."""

from __future__ import annotations

from typing import Any

from dash_quart_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_user,
    logout_user,
    safe_next_url,
)
from quart import Blueprint, Response, redirect, render_template_string, request

from . import data

blueprint = Blueprint("auth", __name__, url_prefix="/auth")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None


class User(UserMixin):
    """A user whose login id carries a session epoch: logout bumps it in the database, so
    every session and remember cookie of that user stops working, on every worker."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.id = row["id"]
        self.username = row["username"]
        self.name = row["name"]
        self.epoch = row["session_epoch"]

    def get_id(self) -> str:
        return f"{self.id}:{self.epoch}"


@login_manager.user_loader
async def load_user(login_id: str) -> User | None:
    user_id, _, epoch = login_id.partition(":")
    row = await data.user_by_id(user_id)
    if row is None or str(row["session_epoch"]) != epoch:
        return None
    return User(row)


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · dash-quart showcase</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto}
label{display:block;margin:.6rem 0}input{width:100%;padding:.4rem}
.error{color:#b00020}</style></head>
<body><h1>Sign in</h1>
{% if error %}<p class="error" id="login-error">{{ error }}</p>{% endif %}
<form method="post">
<label>Username <input name="username" id="username" value="{{ username }}" required></label>
<label>Password <input name="password" id="password" type="password" required></label>
<label><input type="checkbox" name="remember" value="1" style="width:auto"> Remember me</label>
<button type="submit" id="sign-in">Sign in</button></form>
<p>Try <code>demo</code> / <code>demo-password</code>.</p></body></html>"""


@blueprint.route("/login", methods=["GET", "POST"])
async def login() -> Any:
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next_url("/"))
        return await render_template_string(LOGIN_PAGE, error=None, username="")
    form = await request.form
    username = form.get("username", "")[:100]
    row = await data.check_password(username, form.get("password", ""))
    if row is None:
        page = await render_template_string(
            LOGIN_PAGE, error="Wrong username or password.", username=username
        )
        return page, 401
    login_user(User(row), remember=form.get("remember") == "1")
    return redirect(safe_next_url("/"))


@blueprint.post("/logout")
async def logout() -> Response:
    if current_user.is_authenticated:
        await data.end_all_sessions(current_user.id)
    logout_user()
    return redirect("/auth/login")  # type: ignore[return-value]
