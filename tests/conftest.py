from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dash
import pytest
from dash import Dash

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


@pytest.fixture(name="python")
def _python() -> str:
    return sys.executable
