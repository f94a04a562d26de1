from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from dash_quart.testing import free_port, wait_for_port
from tests.conftest import ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(name="live_url")
def _live_url(subprocess_env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    hypercorn = Path(sys.executable).with_name("hypercorn")
    process = subprocess.Popen(
        [str(hypercorn), "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "1",
         "examples.live.app:server"],
        cwd=ROOT, env={**subprocess_env, "LIVE_TICK_SECONDS": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


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
