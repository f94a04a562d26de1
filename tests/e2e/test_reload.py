from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from dash_quart.testing import free_port, wait_for_port

pytestmark = pytest.mark.e2e

APP = textwrap.dedent(
    """
    from dash import Dash, html
    import helper

    app = Dash(__name__, backend="quart")
    app.layout = html.Div(f"{{helper.WORD}} {label}", id="v")

    if __name__ == "__main__":
        app.run(debug=True, port={port}, dev_tools_hot_reload=False)
    """
)


@contextmanager
def _running(args: list[str], cwd: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def _layout_text(port: int) -> str:
    with httpx.Client(trust_env=False, timeout=5) as client:
        return str(client.get(f"http://127.0.0.1:{port}/_dash-layout").json()["props"]["children"])


def _wait_for_text(port: int, expected: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        try:
            seen = _layout_text(port)
        except httpx.HTTPError:
            seen = None
        if seen == expected:
            return
        time.sleep(0.2)
    raise AssertionError(f"layout never became {expected!r}; last seen {seen!r}")


def _edit(path: Path, old: str, new: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(path.read_text().replace(old, new))
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def _project(tmp_path: Path, port: int) -> Path:
    (tmp_path / "helper.py").write_text('WORD = "hello"\n')
    app = tmp_path / "reload_app.py"
    app.write_text(APP.format(port=port, label="one"))
    return app


def test_app_run_debug_reloads_on_change(tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    port = free_port()
    app = _project(tmp_path, port)
    with _running([sys.executable, str(app)], tmp_path, subprocess_env):
        wait_for_port(port, timeout=30)
        _wait_for_text(port, "hello one")
        _edit(app, "{helper.WORD} one", "{helper.WORD} two")
        _wait_for_text(port, "hello two")
        _edit(tmp_path / "helper.py", "hello", "howdy")
        _wait_for_text(port, "howdy two")


def test_cli_run_reload(tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    port = free_port()
    app = _project(tmp_path, free_port())
    cli = Path(sys.executable).with_name("dash-quart")
    args = [str(cli), "run", "reload_app:app", "--reload", "--port", str(port)]
    with _running(args, tmp_path, subprocess_env):
        wait_for_port(port, timeout=30)
        _wait_for_text(port, "hello one")
        _edit(app, "{helper.WORD} one", "{helper.WORD} three")
        _wait_for_text(port, "hello three")


def test_cli_reports_a_bad_target(tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    cli = Path(sys.executable).with_name("dash-quart")
    done = subprocess.run(
        [str(cli), "run", "missing_module:app"], cwd=tmp_path, env=subprocess_env,
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "Cannot import 'missing_module'" in done.stderr
