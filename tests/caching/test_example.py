"""The caching example serves, computes once, and then answers from the cache."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT

from .conftest import db_url

RUNNER = textwrap.dedent(
    """
    import asyncio, json
    from dash_quart.testing import callback_body
    from examples.caching.app import server

    async def main():
        client = server.test_client()
        outputs = [("report", "children"), ("timing", "children")]
        out = []
        for region, forget in [("Asia", None), ("Asia", None), ("Europe", None), ("Asia", 1)]:
            changed = ["forget.n_clicks"] if forget else ["region.value"]
            body = callback_body(
                outputs, [("region", "value", region), ("forget", "n_clicks", forget)],
                changed=changed,
            )
            response = await client.post("/_dash-update-component", json=body)
            payload = await response.get_json()
            out.append([response.status_code, payload["response"]["timing"]["children"]])
        print(json.dumps(out))

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("store", ["simple", "redis"])
def test_example_serves(
    store: str, tmp_path: Path, caching_env: dict[str, str], redis_url: str
) -> None:
    env = {**caching_env, "REPORT_DELAY": "0.2"}
    if store == "redis":
        import redis

        url = db_url(redis_url, 8)
        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()
        env["REDIS_URL"] = url
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    done = subprocess.run(
        [sys.executable, str(runner)], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert [status for status, _ in results] == [200] * 4
    kinds = [timing.split(" in ")[0] for _, timing in results]
    assert kinds == ["computed", "from the cache", "computed", "computed"]
