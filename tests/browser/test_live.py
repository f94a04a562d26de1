from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from dash_quart.testing import hypercorn_server
from tests.conftest import ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(name="live_url")
def _live_url(subprocess_env: dict[str, str]) -> Iterator[str]:
    env = {**subprocess_env, "LIVE_TICK_SECONDS": "1"}
    with hypercorn_server("examples.live.app:server", env=env, cwd=str(ROOT),
                          args=["--graceful-timeout", "1"]) as url:
        yield url


def test_live_page_updates_from_server_events(live_url: str, page: Page) -> None:
    page.goto(live_url)
    expect(page.locator("#state")).to_have_text("open")
    expect(page.locator("#price")).not_to_have_text("-")
    first_count = int(page.locator("#count").inner_text())

    # The POST returns once the event is published; the page must show it within 1 s.
    response = httpx.post(f"{live_url}/live/note", json={"text": "deploy finished"},
                          trust_env=False)
    assert response.status_code == 200
    expect(page.locator("#note")).to_have_text("deploy finished", timeout=1000)

    expect(page.locator("#count")).not_to_have_text(str(first_count))
    page.wait_for_function(
        "() => { const g = document.querySelector('#graph .js-plotly-plot');"
        " return g && g.data && g.data[0].x.length >= 1; }",
        timeout=15_000,
    )
