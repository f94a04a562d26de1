from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dash_quart.testing import hypercorn_server
from tests.conftest import ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(name="login_url")
def _login_url(subprocess_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    env = {**subprocess_env, "LOGIN_DB": str(tmp_path / "users.sqlite3")}
    with hypercorn_server("examples.login.app:server", env=env, cwd=str(ROOT)) as url:
        yield url


def _sign_in(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_login_protects_pages_and_callbacks(login_url: str, page: Page) -> None:
    login_page = re.compile(re.escape(f"{login_url}/auth/login"))

    page.goto(f"{login_url}/reports")
    expect(page).to_have_url(re.compile(r"/auth/login\?next=%2Freports$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    _sign_in(page, "ada", "not the password")
    expect(page.get_by_role("alert")).to_have_text("Unknown username or wrong password.")
    expect(page).to_have_url(login_page)

    _sign_in(page, "ada", "analytical-engine")
    expect(page).to_have_url(f"{login_url}/reports", timeout=15_000)
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()

    page.get_by_role("button", name="Run report").click()
    expect(page.locator("#report-output")).to_contain_text(
        "Report #1 for Ada Lovelace", timeout=15_000
    )
    page.get_by_role("button", name="Run report").click()
    expect(page.locator("#report-output")).to_contain_text("Report #2 for Ada Lovelace")

    page.get_by_role("link", name="Home").click()
    expect(page.locator("#signed-in-as")).to_have_text("Signed in as Ada Lovelace")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{login_url}/auth/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.goto(f"{login_url}/reports")
    expect(page).to_have_url(re.compile(r"/auth/login\?next=%2Freports$"))


def test_another_user_sees_their_own_name(login_url: str, page: Page) -> None:
    page.goto(f"{login_url}/")
    expect(page).to_have_url(re.compile(r"/auth/login\?next=%2F$"))
    _sign_in(page, "grace", "compiler")
    expect(page).to_have_url(f"{login_url}/")
    expect(page.locator("#signed-in-as")).to_have_text("Signed in as Grace Hopper")


def test_login_page_assets_are_public(login_url: str, page: Page) -> None:
    stylesheet = page.request.get(f"{login_url}/assets/style.css")
    assert stylesheet.ok
    layout = page.request.get(f"{login_url}/_dash-layout")
    assert layout.status == 401
    assert layout.json() == {"error": {"message": "Login required.", "status": 401}}


def test_remember_me_outlives_the_session_cookie(login_url: str, page: Page) -> None:
    page.goto(f"{login_url}/reports")
    page.get_by_label("Remember me").check()
    _sign_in(page, "grace", "compiler")
    expect(page).to_have_url(f"{login_url}/reports")

    page.context.clear_cookies(name="session")
    page.reload()
    expect(page).to_have_url(f"{login_url}/reports")
    page.get_by_role("button", name="Run report").click()
    expect(page.locator("#report-output")).to_contain_text("Report #1 for Grace Hopper")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{login_url}/auth/login")
    assert "remember_token" not in {cookie["name"] for cookie in page.context.cookies()}
    page.goto(f"{login_url}/reports")
    expect(page).to_have_url(re.compile(r"/auth/login\?next=%2Freports$"))
