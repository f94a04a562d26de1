"""The caching benchmark's Dash app: ``hypercorn bench.apps.caching_dash:server``.

One ``async def`` callback awaits ``asyncio.sleep(0.005)``, standing for a query, and then
summarises 50 rows. ``BENCH_CACHE`` decides how it is registered: ``off`` as it is,
``simple`` memoized with a SimpleCache (one per worker process), ``redis`` memoized with a
RedisCache at ``BENCH_CACHE_REDIS_URL`` that the workers share.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from dash import Dash, Input, Output, dcc, html
from dash_quart_caching import Cache
from quart import Quart, Response

from .common import PID, check_backend, info

SLEEP_SECONDS = 0.005
MODES = ("off", "simple", "redis")
MODE = os.environ.get("BENCH_CACHE", "off")
if MODE not in MODES:
    raise RuntimeError(f"BENCH_CACHE must be one of {', '.join(MODES)}, not {MODE!r}")

app = Dash(__name__, backend="quart")
server: Quart = app.server
BACKEND = check_backend(app)
app.layout = html.Div([dcc.Input(id="in-memo", value=0), html.Div(id="out-memo")])


async def memo(value: Any) -> str:
    await asyncio.sleep(SLEEP_SECONDS)
    seed = int(value or 0)
    rows = [{"id": i, "score": (i * 31 + seed) % 97} for i in range(50)]
    best = max(rows, key=lambda row: row["score"])
    return f"memo {value}: row {best['id']} scores {best['score']} of {len(rows)}"


if MODE == "off":
    callback = memo
else:
    settings: dict[str, Any] = {"CACHE_TYPE": "SimpleCache"}
    if MODE == "redis":
        url = os.environ["BENCH_CACHE_REDIS_URL"]
        settings = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url}
    cache = Cache(app, config=settings)
    callback = cache.memoize(timeout=600)(memo)

app.callback(Output("out-memo", "children"), Input("in-memo", "value"))(callback)


@server.after_request
async def _worker_pid(response: Response) -> Response:
    response.headers["X-Worker-Pid"] = PID
    return response


@server.get("/bench/info")
async def _info() -> dict[str, str]:
    return {**info(BACKEND), "cache": MODE}
