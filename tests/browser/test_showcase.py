"""The showcase in a browser, as `make demo` serves it: one worker, memory backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dash_quart.testing import hypercorn_server
from tests.conftest import ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(name="showcase_url")
def _showcase_url(subprocess_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    env = {**subprocess_env, "SHOWCASE_DB": str(tmp_path / "users.sqlite3"),
           "SHOWCASE_REPORT_SECONDS": "0.5"}
    with hypercorn_server("examples.showcase.app:server", env=env, cwd=str(ROOT),
                          args=["--graceful-timeout", "1"]) as url:
        yield url


def test_showcase_tour(showcase_url: str, page: Page) -> None:
    page.goto(showcase_url + "/reports")
    expect(page).to_have_url(f"{showcase_url}/auth/login?next=%2Freports")
    page.fill("#username", "demo")
    page.fill("#password", "wrong")
    page.click("#sign-in")
    expect(page.locator("#login-error")).to_have_text("Wrong username or password.")
    page.fill("#password", "demo-password")
    page.click("#sign-in")

    expect(page).to_have_url(f"{showcase_url}/reports")
    expect(page.locator("#report-meta")).to_contain_text("computed by worker")

    page.click("text=Live")
    expect(page.locator("#feed-state")).to_have_text("open")
    expect(page.locator("#price")).not_to_have_text("-")
    page.fill("#announcement", "hello from the tour")
    page.click("#announce")
    expect(page.locator("#announcements li").first).to_have_text(
        "Demo User: hello from the tour"
    )

    page.click("text=Jobs")
    page.click("#start-job")
    expect(page.locator("#job-status")).to_contain_text("finished (100%)", timeout=20_000)

    page.goto(showcase_url + "/legacy/")
    expect(page.locator("#legacy-user")).to_have_text("Signed in as Demo User")

    page.goto(showcase_url + "/")
    expect(page.locator("#greeting")).to_have_text("Signed in as Demo User.")
    page.click("#sign-out")
    expect(page).to_have_url(f"{showcase_url}/auth/login")
    page.goto(showcase_url + "/")
    expect(page).to_have_url(f"{showcase_url}/auth/login?next=%2F")


def test_showcase_json_api(showcase_url: str, page: Page) -> None:
    response = page.request.get(f"{showcase_url}/api/status",
                                headers={"Origin": "http://localhost:3000"})
    assert response.ok
    assert response.json()["backend"] == "QuartBackend"
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert page.request.get(f"{showcase_url}/api/me", max_redirects=0).status == 302
