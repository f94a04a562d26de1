from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from dash_quart_login import (
    LoginTestClient,
    UserMixin,
    current_user,
    login_remembered,
    session_protected,
    user_accessed,
    user_loaded_from_cookie,
    user_loaded_from_request,
    user_logged_in,
    user_logged_out,
    user_login_confirmed,
    user_needs_refresh,
    user_unauthorized,
)
from dash_quart_login.tokens import bearer_token, generate_token, load_token
from quart import Quart, session

from tests.login.conftest import USERS, build_app


def _cookie(response: Any, name: str) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return str(header)
    return None


@pytest.mark.parametrize("loader", ["async", "sync"])
async def test_login_and_current_user_in_async_and_sync_views(loader: str) -> None:
    app, _ = build_app(loader)
    client = app.test_client()
    assert (await client.get("/whoami")).status_code == 200
    assert await (await client.get("/whoami")).get_json() == {"id": None, "anonymous": True}
    assert (await client.post("/login/ada")).status_code == 200
    assert await (await client.get("/me")).get_json() == {"id": "ada"}
    assert await (await client.get("/me-sync")).get_json() == {"id": "ada"}
    assert app.config["LOADS"].count("ada") >= 2


async def test_user_is_loaded_once_per_request(app: Quart) -> None:
    client = app.test_client()
    await client.post("/login/ada")
    app.config["LOADS"].clear()
    await client.get("/me")
    assert app.config["LOADS"] == ["ada"]


async def test_anonymous_is_redirected_with_next(app: Quart) -> None:
    response = await app.test_client().get("/me?tab=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fme%3Ftab%3D2"


async def test_no_login_view_gives_401(app: Quart) -> None:
    app.login_manager.login_view = None  # type: ignore[attr-defined]
    assert (await app.test_client().get("/me")).status_code == 401


async def test_unauthorized_handler_async_and_sync(app: Quart) -> None:
    manager = app.login_manager  # type: ignore[attr-defined]

    @manager.unauthorized_handler
    async def custom() -> tuple[dict[str, str], int]:
        return {"error": "custom"}, 403

    client = app.test_client()
    response = await client.get("/me")
    assert response.status_code == 403 and (await response.get_json()) == {"error": "custom"}
    response = await client.get("/me-sync")
    assert response.status_code == 403


async def test_options_and_login_disabled_are_exempt(app: Quart) -> None:
    client = app.test_client()
    assert (await client.options("/me")).status_code == 200
    app.config["LOGIN_DISABLED"] = True
    assert (await client.get("/me")).status_code == 200


async def test_inactive_user_is_refused_unless_forced(app: Quart) -> None:
    client = app.test_client()
    assert (await client.post("/login/ghost")).status_code == 401
    assert (await client.post("/login/ghost?force=1")).status_code == 200


async def test_remember_cookie_logs_back_in(app: Quart) -> None:
    client = app.test_client()
    response = await client.post("/login/ada?remember=1")
    cookie = _cookie(response, "remember_token")
    assert cookie is not None and "HttpOnly" in cookie and "Path=/" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    fresh_client = app.test_client()
    fresh_client.set_cookie("localhost", "remember_token", value)
    assert await (await fresh_client.get("/me")).get_json() == {"id": "ada"}
    # Restored from the cookie, so not fresh; with no refresh_view that is a 401.
    assert (await fresh_client.get("/fresh")).status_code == 401


async def test_logout_clears_the_remember_cookie(app: Quart) -> None:
    client = app.test_client()
    await client.post("/login/ada?remember=1")
    response = await client.post("/logout")
    cleared = _cookie(response, "remember_token")
    assert cleared is not None and ("Max-Age=0" in cleared or "Expires=Thu, 01 Jan 1970" in cleared)
    assert (await client.get("/me")).status_code == 302


async def test_remember_duration(app: Quart) -> None:
    from dash_quart_login import login_user

    @app.post("/short")
    async def short() -> str:
        login_user(USERS["ada"], remember=True, duration=timedelta(seconds=60))
        return "ok"

    response = await app.test_client().post("/short")
    cookie = _cookie(response, "remember_token") or ""
    assert "Expires=" in cookie


async def test_fresh_login_required_and_confirm(app: Quart) -> None:
    from dash_quart_login import confirm_login, login_fresh

    @app.post("/confirm")
    async def confirm() -> dict[str, bool]:
        confirm_login()
        return {"fresh": login_fresh()}

    client = app.test_client()
    assert (await client.get("/fresh")).status_code == 302
    await client.post("/login/ada")
    assert (await client.get("/fresh")).status_code == 200
    async with client.session_transaction() as sess:
        sess["_fresh"] = False
    stale = await client.get("/fresh")
    assert stale.status_code == 401
    assert await (await client.post("/confirm")).get_json() == {"fresh": True}
    assert (await client.get("/fresh")).status_code == 200


async def test_request_loader_with_bearer_token() -> None:
    app, manager = build_app()

    @manager.request_loader
    async def from_token(request: Any) -> Any:
        user_id = load_token(bearer_token(request) or "", max_age=60)
        return USERS.get(user_id) if user_id else None

    async with app.app_context():
        token = generate_token("grace")
    client = app.test_client()
    ok = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert await ok.get_json() == {"id": "grace"}
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for header in (f"Bearer {forged}", "Basic Zm9vOmJhcg==", "Bearer "):
        refused = await client.get("/me", headers={"Authorization": header})
        assert refused.status_code == 302


async def test_signals_are_sent() -> None:
    app, manager = build_app()
    seen: list[str] = []
    receivers = {
        "logged_in": user_logged_in, "logged_out": user_logged_out,
        "accessed": user_accessed, "unauthorized": user_unauthorized,
        "needs_refresh": user_needs_refresh, "confirmed": user_login_confirmed,
        "from_cookie": user_loaded_from_cookie, "from_request": user_loaded_from_request,
        "protected": session_protected,
    }
    handlers = {}
    for name, signal in receivers.items():
        def handler(sender: Any, _name: str = name, **extra: Any) -> None:
            seen.append(_name)
        handlers[name] = handler
        signal.connect(handler, app)

    @manager.request_loader
    def from_header(request: Any) -> Any:
        return USERS.get(request.headers.get("X-User", ""))

    from dash_quart_login import confirm_login

    @app.post("/confirm")
    async def confirm() -> str:
        confirm_login()
        return "ok"

    client = app.test_client()
    await client.get("/me")
    await client.post("/login/ada?remember=1")
    async with client.session_transaction() as sess:
        sess["_fresh"] = False
    await client.get("/fresh")
    await client.post("/confirm")
    await client.post("/logout")
    await app.test_client().get("/whoami", headers={"X-User": "grace"})
    remembered = app.test_client()
    from dash_quart_login import encode_cookie
    async with app.app_context():
        remembered.set_cookie("localhost", "remember_token", encode_cookie("ada"))
    await remembered.get("/whoami")
    other_agent = app.test_client()
    await other_agent.post("/login/ada")
    await other_agent.get("/whoami", headers={"User-Agent": "changed"})
    assert set(seen) == set(receivers)


async def test_test_client_helper(app: Quart) -> None:
    app.test_client_class = LoginTestClient
    client = app.test_client(user=USERS["grace"])  # type: ignore[call-arg]
    assert await (await client.get("/me")).get_json() == {"id": "grace"}
    assert (await client.get("/fresh")).status_code == 200
    stale = app.test_client(user=USERS["grace"], fresh_login=False)  # type: ignore[call-arg]
    assert (await stale.get("/fresh")).status_code == 401


async def test_current_user_in_a_pool_thread_and_websocket(app: Quart) -> None:
    from quart import websocket

    import dash_quart

    dash_quart.DashQuart(app)

    @app.get("/thread")
    def in_thread() -> dict[str, Any]:
        return {"id": current_user.get_id(), "thread": threading.current_thread().name}

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.send(str(current_user.get_id()))

    client = app.test_client()
    await client.post("/login/ada")
    result = await (await client.get("/thread")).get_json()
    assert result["id"] == "ada" and result["thread"].startswith("dash-quart-sync")
    async with client.websocket("/ws") as conn:
        assert await conn.receive() == "ada"


async def test_login_remembered_and_user_mixin() -> None:
    app, _ = build_app()

    @app.get("/remembered")
    async def remembered() -> dict[str, bool]:
        return {"remembered": login_remembered(), "has_session": "_user_id" in session}

    client = app.test_client()
    assert await (await client.get("/remembered")).get_json() == {
        "remembered": False, "has_session": False,
    }
    assert UserMixin.__eq__(USERS["ada"], USERS["ada"]) is True
    assert USERS["ada"] != USERS["grace"]
