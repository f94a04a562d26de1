"""The login example (examples/login), in process: what anonymous and signed-in users get."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from quart.testing import QuartClient

from dash_quart.testing import callback_body

ANONYMOUS_401 = {"error": {"message": "Login required.", "status": 401}}


@pytest.fixture(name="example")
def _example(tmp_path: Path) -> ModuleType:
    """The example module, executed afresh so its pages are registered for this test."""
    module = importlib.reload(importlib.import_module("examples.login.app"))
    module.server.config["LOGIN_DB"] = str(tmp_path / "users.sqlite3")
    return module


@pytest.fixture(name="client")
async def _client(example: ModuleType) -> AsyncIterator[QuartClient]:
    async with example.server.test_app() as test_app:
        yield test_app.test_client()


def _report_click(clicks: int) -> dict[str, Any]:
    return callback_body(("report-output", "children"), [("run-report", "n_clicks", clicks)])


async def test_anonymous_callback_gets_401_json(example: ModuleType) -> None:
    client = example.app.server.test_client()
    response = await client.post("/_dash-update-component", json=_report_click(1))
    assert response.status_code == 401
    assert response.content_type == "application/json"
    assert await response.get_json() == ANONYMOUS_401


async def test_anonymous_pages_redirect_to_the_login_form(example: ModuleType) -> None:
    client = example.server.test_client()
    response = await client.get("/reports?tab=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=%2Freports%3Ftab%3D2"
    assert (await client.get("/_dash-layout")).status_code == 401
    assert (await client.get("/assets/style.css")).status_code == 200


async def test_wrong_password_shows_the_form_again_escaped(client: QuartClient) -> None:
    response = await client.post("/auth/login", form={"username": "<b>ada</b>", "password": "nope"})
    assert response.status_code == 401
    page = await response.get_data(as_text=True)
    assert "Unknown username or wrong password." in page
    assert 'value="&lt;b&gt;ada&lt;/b&gt;"' in page
    assert "<b>ada</b>" not in page
    wrong = await client.post(
        "/auth/login", form={"username": "ada", "password": "analytical-engine!"}
    )
    assert wrong.status_code == 401


async def test_sign_in_run_a_report_and_sign_out(client: QuartClient) -> None:
    response = await client.post(
        "/auth/login?next=%2Freports",
        form={"username": "ada", "password": "analytical-engine", "remember": "on"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/reports"
    assert any(h.startswith("remember_token=") for h in response.headers.getlist("Set-Cookie"))

    assert (await client.get("/reports")).status_code == 200
    for clicks in (1, 2):
        reply = await client.post("/_dash-update-component", json=_report_click(clicks))
        children = (await reply.get_json())["response"]["report-output"]["children"]
        assert children.startswith(f"Report #{clicks} for Ada Lovelace, run at ")
    who = await client.post(
        "/_dash-update-component",
        json=callback_body(("signed-in-as", "children"), [("url", "pathname", "/")]),
    )
    assert (await who.get_json())["response"]["signed-in-as"]["children"] == (
        "Signed in as Ada Lovelace"
    )

    signed_out = await client.post("/auth/logout")
    assert signed_out.status_code == 302
    assert signed_out.headers["Location"] == "/auth/login"
    again = await client.post("/_dash-update-component", json=_report_click(3))
    assert again.status_code == 401


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "/\\evil"])
async def test_login_never_redirects_off_site(client: QuartClient, target: str) -> None:
    response = await client.post(
        "/auth/login",
        query_string={"next": target},
        form={"username": "grace", "password": "compiler"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


async def test_signed_in_user_skips_the_login_form(client: QuartClient) -> None:
    await client.post("/auth/login", form={"username": "grace", "password": "compiler"})
    response = await client.get("/auth/login?next=%2Freports")
    assert response.status_code == 302
    assert response.headers["Location"] == "/reports"
