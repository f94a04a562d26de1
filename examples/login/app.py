"""A multi-page Dash app behind a login form, with its users in SQLite.

    hypercorn examples.login.app:server      # or: python -m examples.login.app

Sign in as ``ada`` / ``analytical-engine`` or ``grace`` / ``compiler``. Environment:

- ``SECRET_KEY`` signs the session and the remember cookie (a development default is used
  when it is unset: set it in production);
- ``LOGIN_DB`` is the SQLite file (default: ``dash-quart-login-example.sqlite3`` in the
  temporary directory), created with the two demo users at startup;
- ``LOGIN_SECURE_COOKIES=1`` marks the cookies ``Secure``, for a site served over HTTPS.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiosqlite
import dash
from dash import Dash, Input, Output, dcc, html
from dash_quart_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_user,
    logout_user,
    safe_next_url,
)
from quart import current_app, redirect, render_template_string, request, url_for
from werkzeug.security import check_password_hash, generate_password_hash

import dash_quart

DEMO_USERS = [
    ("ada", "Ada Lovelace", "analytical-engine"),
    ("grace", "Grace Hopper", "compiler"),
]
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS report_runs (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    ran_at TEXT NOT NULL
);
"""
DB_KEY = "login_example_db"
SECURE_COOKIES = os.environ.get("LOGIN_SECURE_COOKIES") == "1"

app = Dash(
    __name__,
    backend="quart",
    use_pages=True,
    pages_folder="",
    assets_folder=str(Path(__file__).with_name("assets")),
    title="dash-quart login",
    suppress_callback_exceptions=True,
)
server = app.server
server.config.update(
    SECRET_KEY=os.environ.get("SECRET_KEY", "dev-only-secret-key-change-me"),
    LOGIN_DB=os.environ.get("LOGIN_DB")
    or str(Path(tempfile.gettempdir()) / "dash-quart-login-example.sqlite3"),
    SESSION_COOKIE_SAMESITE="Lax",
    SESSION_COOKIE_SECURE=SECURE_COOKIES,
    REMEMBER_COOKIE_SAMESITE="Lax",
    REMEMBER_COOKIE_SECURE=SECURE_COOKIES,
)

login_manager = LoginManager(server)
login_manager.login_view = "login"


class User(UserMixin):
    def __init__(self, user_id: int, username: str, name: str) -> None:
        self.id = user_id
        self.username = username
        self.name = name


def users_db() -> aiosqlite.Connection:
    """The worker's database connection, opened when the server starts."""
    db: aiosqlite.Connection = current_app.extensions[DB_KEY]
    return db


@server.before_serving
async def open_users_db() -> None:
    db = await aiosqlite.connect(server.config["LOGIN_DB"])
    await db.executescript(SCHEMA)
    for username, name, password in DEMO_USERS:
        password_hash = await dash_quart.run_sync(generate_password_hash, password)
        await db.execute(
            "INSERT OR IGNORE INTO users (username, name, password_hash) VALUES (?, ?, ?)",
            (username, name, password_hash),
        )
    await db.commit()
    server.extensions[DB_KEY] = db


@server.after_serving
async def close_users_db() -> None:
    db = server.extensions.pop(DB_KEY, None)
    if db is not None:
        await db.close()


@login_manager.user_loader
async def load_user(user_id: str) -> User | None:
    async with users_db().execute(
        "SELECT id, username, name FROM users WHERE id = ?", (user_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return User(*row) if row is not None else None


async def authenticate(username: str, password: str) -> User | None:
    """The user with these credentials, or None."""
    async with users_db().execute(
        "SELECT id, username, name, password_hash FROM users WHERE username = ?", (username,)
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    if not await dash_quart.run_sync(check_password_hash, row[3], password):
        return None
    return User(row[0], row[1], row[2])


LOGIN_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Sign in · dash-quart login</title>
  <link rel="stylesheet" href="{{ stylesheet }}">
</head>
<body>
  <main class="login">
    <h1>Sign in</h1>
    {% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
    <form method="post">
      <label>Username
        <input type="text" name="username" value="{{ username }}" autocomplete="username"
               required autofocus>
      </label>
      <label>Password
        <input type="password" name="password" autocomplete="current-password" required>
      </label>
      <label><input type="checkbox" name="remember"> Remember me on this device</label>
      <button type="submit">Sign in</button>
    </form>
    <p class="hint">Demo accounts:</p>
    <ul class="hint">
      {% for username, name, password in demo_users %}
        <li><code>{{ username }}</code> / <code>{{ password }}</code> ({{ name }})</li>
      {% endfor %}
    </ul>
  </main>
</body>
</html>
"""

LOGOUT_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Sign out · dash-quart login</title>
  <link rel="stylesheet" href="{{ stylesheet }}">
</head>
<body>
  <main class="login">
    <h1>Sign out</h1>
    <form method="post"><button type="submit">Sign out</button></form>
    <p><a href="/">Back to the app</a></p>
  </main>
</body>
</html>
"""


async def login_page(username: str = "", error: str | None = None) -> str:
    return await render_template_string(
        LOGIN_PAGE,
        username=username,
        error=error,
        demo_users=DEMO_USERS,
        stylesheet=app.get_asset_url("style.css"),
    )


@server.route("/auth/login", methods=["GET", "POST"])
async def login() -> Any:
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next_url("/"))
        return await login_page()
    form = await request.form
    username = form.get("username", "").strip()
    user = await authenticate(username, form.get("password", ""))
    if user is None:
        return await login_page(username, "Unknown username or wrong password."), 401
    login_user(user, remember="remember" in form)
    return redirect(safe_next_url("/"))


@server.route("/auth/logout", methods=["GET", "POST"])
async def logout() -> Any:
    if request.method == "POST":
        logout_user()
        return redirect(url_for("login"))
    return await render_template_string(LOGOUT_PAGE, stylesheet=app.get_asset_url("style.css"))


dash.register_page(
    "home",
    path="/",
    title="Home · dash-quart login",
    layout=html.Section(
        [
            html.H1("Home"),
            html.P(id="signed-in-as"),
            html.P(["Your reports are on the ", dcc.Link("reports page", href="/reports"), "."]),
        ]
    ),
)

dash.register_page(
    "reports",
    path="/reports",
    title="Reports · dash-quart login",
    layout=html.Section(
        [
            html.H1("Reports"),
            html.Button("Run report", id="run-report"),
            html.P("Press the button to run a report.", id="report-output"),
        ]
    ),
)

app.layout = html.Div(
    [
        dcc.Location(id="url"),
        html.Header(
            [
                html.Nav([dcc.Link("Home", href="/"), dcc.Link("Reports", href="/reports")]),
                html.Form(
                    html.Button("Sign out", id="sign-out", type="submit"),
                    method="post",
                    action="/auth/logout",
                ),
            ]
        ),
        html.Main(dash.page_container),
    ]
)


@app.callback(Output("signed-in-as", "children"), Input("url", "pathname"))
def show_user(_pathname: str | None) -> str:
    return f"Signed in as {current_user.name}"


@app.callback(
    Output("report-output", "children"),
    Input("run-report", "n_clicks"),
    prevent_initial_call=True,
)
async def run_report(_clicks: int | None) -> str:
    db = users_db()
    ran_at = datetime.now(timezone.utc)
    await db.execute(
        "INSERT INTO report_runs (user_id, ran_at) VALUES (?, ?)",
        (current_user.id, ran_at.isoformat()),
    )
    await db.commit()
    async with db.execute(
        "SELECT COUNT(*) FROM report_runs WHERE user_id = ?", (current_user.id,)
    ) as cursor:
        row = await cursor.fetchone()
    runs = row[0] if row is not None else 0
    return f"Report #{runs} for {current_user.name}, run at {ran_at:%H:%M:%S} UTC."


login_manager.protect_dash(app)


if __name__ == "__main__":
    app.run(debug=True)
