from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

# Dash's hooks are process-wide, so the hook routes are registered in a child process and
# do not leak into the other tests' apps.
SCRIPT = textwrap.dedent(
    """
    import asyncio, json, threading
    import dash
    from dash import Dash, html

    @dash.hooks.route(name="async-hook", methods=("GET", "POST"))
    async def async_hook():
        await asyncio.sleep(0)
        return {"kind": "async", "app": dash.get_app().config.url_base_pathname}

    @dash.hooks.route(name="sync-hook")
    def sync_hook():
        return {"kind": "sync", "thread": threading.current_thread().name}

    async def main():
        app = Dash(__name__, backend="quart", url_base_pathname="/base/")
        app.layout = html.Div()
        client = app.server.test_client()
        results = {}
        for method, path in (("GET", "/base/async-hook"), ("POST", "/base/async-hook"),
                             ("GET", "/base/sync-hook")):
            response = await client.open(path, method=method)
            results[f"{method} {path}"] = [response.status_code, await response.get_json()]
        print(json.dumps(results))

    asyncio.run(main())
    """
)


def test_async_and_sync_hook_routes(
    tmp_path: Path, python: str, subprocess_env: dict[str, str]
) -> None:
    script = tmp_path / "hook_app.py"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [python, str(script)], capture_output=True, text=True, timeout=60, env=subprocess_env
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["GET /base/async-hook"] == [200, {"kind": "async", "app": "/base/"}]
    assert results["POST /base/async-hook"] == [200, {"kind": "async", "app": "/base/"}]
    status, body = results["GET /base/sync-hook"]
    assert status == 200
    assert body["kind"] == "sync"
    assert body["thread"].startswith("dash-quart-sync")
