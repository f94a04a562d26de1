from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Each example is imported in a child process: examples register Dash hooks, which are
# process-wide.
CHECKS = {
    "examples.showcase.app": [("GET", "/api/status", None, '"backend":"QuartBackend"')],
    "examples.multi_app.app": [
        ("POST", "/sales/_dash-update-component", ("out", "go", 2), "sales refreshed 2 times"),
        ("POST", "/ops/_dash-update-component", ("out", "go", 3), "ops checked 3 times"),
    ],
    "examples.run_sync.app": [
        ("POST", "/_dash-update-component", ("squares", "n", 4), "0, 1, 4, 9"),
    ],
    "examples.hook_routes.app": [("GET", "/api/uptime", None, "uptime_seconds")],
}

RUNNER = textwrap.dedent(
    """
    import asyncio, importlib, json, sys
    from dash_quart.testing import callback_body

    module = importlib.import_module(sys.argv[1])
    server = getattr(module, "server")
    checks = json.loads(sys.argv[2])

    async def main():
        client = server.test_client()
        out = []
        for method, path, call, _ in checks:
            kwargs = {}
            if call:
                output, source, value = call
                in_prop = "n_clicks" if source == "go" else "value"
                kwargs["json"] = callback_body((output, "children"), [(source, in_prop, value)])
            response = await client.open(path, method=method, **kwargs)
            out.append([response.status_code, await response.get_data(as_text=True)])
        print(json.dumps(out))

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("module", list(CHECKS))
def test_example_serves(
    module: str, tmp_path: Path, subprocess_env: dict[str, str], python: str
) -> None:
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    checks = CHECKS[module]
    done = subprocess.run(
        [python, str(runner), module, json.dumps(checks)],
        cwd=ROOT, env=subprocess_env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for (status, body), (_method, path, _call, expected) in zip(results, checks, strict=True):
        assert status == 200, (path, body)
        assert expected in body, (path, body)
