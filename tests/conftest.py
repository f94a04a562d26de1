from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dash
import pytest
from dash import Dash
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent

MakeApp = Callable[..., Dash]


@pytest.fixture(name="make_app")
def _make_app(tmp_path: Path) -> MakeApp:
    """A factory for fresh Dash apps on Quart, each with its own (empty) assets folder."""

    def _factory(**kwargs: Any) -> Dash:
        kwargs.setdefault("backend", "quart")
        kwargs.setdefault("assets_folder", str(tmp_path / "assets"))
        return Dash(__name__, **kwargs)

    return _factory


@pytest.fixture(autouse=True)
def _restore_page_registry() -> Iterator[None]:
    before = dict(dash.page_registry)
    yield
    dash.page_registry.clear()
    dash.page_registry.update(before)


@pytest.fixture(name="subprocess_env")
def _subprocess_env() -> dict[str, str]:
    """Environment for child Python processes: the repository on sys.path, no proxies."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="session", name="redis_url")
def _redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, for the whole test session."""
    from dash_quart.testing import free_port, wait_for_port

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: install the Debian package redis-server")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=15)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(name="python")
def _python() -> str:
    return sys.executable


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module", name="browser")
def _browser() -> Iterator[Browser]:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.fail("Chromium is missing: install the Debian package with apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(name="page")
def _page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
