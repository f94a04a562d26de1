"""The showcase in production mode: `hypercorn -w 2`, Redis, two browsers.

Both workers share one listening socket, so every check opens fresh connections until both
workers (told apart by the ``X-Worker-Pid`` header the showcase adds in test mode) have
answered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, Page, expect

from dash_quart.testing import hypercorn_server
from tests.conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
ATTEMPTS = 80


@pytest.fixture(name="base_url")
def _base_url(
    redis_url: str, subprocess_env: dict[str, str], tmp_path: Path
) -> Iterator[str]:
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **subprocess_env,
        "REDIS_URL": redis_url,
        "SHOWCASE_TEST_MODE": "1",
        "SHOWCASE_DB": str(tmp_path / "users.sqlite3"),
        "SHOWCASE_REPORT_SECONDS": "1",
        "SECRET_KEY": "production-test-secret",
    }
    args = ["--workers", "2", "--graceful-timeout", "1"]
    with hypercorn_server("examples.showcase.app:server", env=env, cwd=str(ROOT),
                          args=args) as url:
        _wait_ready(url)
        yield url


def _wait_ready(base: str) -> None:
    """Both workers answer, and each has created the user database."""
    seen = _on_both_workers(base, {}, lambda c: c.get("/api/status"))
    assert all(r.status_code == 200 for r in seen.values())


def _on_both_workers(
    base: str, cookies: dict[str, str], request: Callable[[httpx.Client], httpx.Response]
) -> dict[str, httpx.Response]:
    """Send ``request`` on fresh connections until both workers answered; by worker pid."""
    answers: dict[str, httpx.Response] = {}
    for _ in range(ATTEMPTS):
        with httpx.Client(base_url=base, cookies=cookies, trust_env=False, timeout=30,
                          limits=httpx.Limits(max_connections=1)) as client:
            response = request(client)
            answers.setdefault(response.headers["x-worker-pid"], response)
        if len(answers) == 2:
            return answers
    raise AssertionError(f"{ATTEMPTS} connections all landed on worker(s) {sorted(answers)}")


def _cookies(context: BrowserContext) -> dict[str, str]:
    return {c["name"]: c["value"] for c in context.cookies()}


def _sign_in(page: Page, base: str) -> None:
    page.goto(base + "/")
    page.fill("#username", "demo")
    page.fill("#password", "demo-password")
    page.click("#sign-in")
    expect(page.locator("#greeting")).to_have_text("Signed in as Demo User.")


def test_two_workers_share_logins_cache_events_and_logout(
    base_url: str, browser: Browser
) -> None:
    first = browser.new_context()
    second = browser.new_context()
    try:
        page_a, page_b = first.new_page(), second.new_page()
        for page in (page_a, page_b):
            page.set_default_timeout(20_000)

        # 1. A login made through one worker is valid on the other.
        _sign_in(page_a, base_url)
        cookies_a = _cookies(first)
        me = _on_both_workers(base_url, cookies_a, lambda c: c.get("/api/me"))
        assert {r.status_code for r in me.values()} == {200}
        assert {r.json()["username"] for r in me.values()} == {"demo"}

        # 2. A report computed once is served from the shared cache by both workers.
        reports = _on_both_workers(base_url, cookies_a, lambda c: c.get("/api/reports/apac"))
        bodies = [r.json() for r in reports.values()]
        assert bodies[0] == bodies[1]
        assert str(bodies[0]["computed_by"]) in reports

        # 3. An event published through one worker reaches a page streamed from the other.
        _sign_in(page_b, base_url)
        with page_b.expect_response(lambda r: "/api/live/announcements" in r.url) as stream:
            page_b.goto(base_url + "/live")
        stream_pid = stream.value.headers["x-worker-pid"]
        expect(page_b.locator("#feed-state")).to_have_text("open")
        published = _publish_from_other_worker(base_url, _cookies(second), stream_pid)
        expect(page_b.locator("#announcements li").first).to_have_text(
            f"Demo User: {published}", timeout=5_000
        )

        # 4. Logout ends the session everywhere: other browsers, replayed cookies, both workers.
        page_a.click("#sign-out")
        expect(page_a).to_have_url(f"{base_url}/auth/login")
        page_b.goto(base_url + "/reports")
        expect(page_b).to_have_url(f"{base_url}/auth/login?next=%2Freports")
        replayed = _on_both_workers(base_url, cookies_a, lambda c: c.get("/api/me"))
        assert {r.status_code for r in replayed.values()} == {302}
    finally:
        first.close()
        second.close()


def _publish_from_other_worker(base: str, cookies: dict[str, str], stream_pid: str) -> str:
    for attempt in range(ATTEMPTS):
        with httpx.Client(base_url=base, cookies=cookies, trust_env=False, timeout=30,
                          limits=httpx.Limits(max_connections=1)) as client:
            probe = client.get("/api/me")
            if probe.headers["x-worker-pid"] == stream_pid:
                continue
            text = f"published through worker {probe.headers['x-worker-pid']} ({attempt})"
            response: Any = client.post("/api/live/announcements", json={"text": text})
            assert response.status_code == 200
            assert response.headers["x-worker-pid"] != stream_pid
            return text
    raise AssertionError(f"no connection reached a worker other than {stream_pid}")
