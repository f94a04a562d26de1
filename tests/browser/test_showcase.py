from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dash_quart.testing import free_port, wait_for_port
from tests.conftest import ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(name="showcase_url")
def _showcase_url(subprocess_env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    hypercorn = Path(sys.executable).with_name("hypercorn")
    process = subprocess.Popen(
        [str(hypercorn), "--bind", f"127.0.0.1:{port}", "examples.showcase.app:server"],
        cwd=ROOT, env=subprocess_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)
        assert process.stderr is not None
        errors = process.stderr.read().decode()
        process.stderr.close()
        assert "Traceback" not in errors, errors


def test_showcase_sync_and_async_callbacks(showcase_url: str, page: Page) -> None:
    page.goto(showcase_url)
    expect(page.get_by_role("heading", name="dash-quart showcase")).to_be_visible()

    page.fill("#name", "Dash user")
    page.click("#greet")
    expect(page.locator("#sync-output")).to_contain_text("Hello, Dash user! (sync callback #1")
    expect(page.locator("#sync-output")).to_contain_text("dash-quart-sync")

    page.click("#fetch")
    expect(page.locator("#async-output")).to_have_text(
        "Fetched asynchronously (async callback #1 on the event loop)"
    )


def test_showcase_json_route(showcase_url: str, page: Page) -> None:
    response = page.request.get(f"{showcase_url}/api/status")
    assert response.ok
    assert response.json()["backend"] == "QuartBackend"
