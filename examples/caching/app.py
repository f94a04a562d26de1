"""A Dash report whose async callback is memoized with dash-quart-caching.

    python -m examples.caching.app                       # SimpleCache, in this process
    REDIS_URL=redis://127.0.0.1:6379/0 python -m examples.caching.app   # RedisCache

Pick a region: the first time, the report takes REPORT_DELAY seconds (1.5 by default) to
compute; afterwards it comes from the cache in a fraction of a millisecond.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from dash import Dash, Input, Output, ctx, dcc, html
from dash_quart_caching import Cache

REDIS_URL = os.environ.get("REDIS_URL")
DELAY = float(os.environ.get("REPORT_DELAY", "1.5"))
REGIONS = ["Europe", "Americas", "Asia"]

app = Dash(__name__, backend="quart")
server = app.server

if REDIS_URL:
    config = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": REDIS_URL}
else:
    config = {"CACHE_TYPE": "SimpleCache"}
cache = Cache(app, config={**config, "CACHE_DEFAULT_TIMEOUT": 600})

app.layout = html.Div(
    [
        html.H3(f"Sales report ({config['CACHE_TYPE']})"),
        dcc.Dropdown(REGIONS, REGIONS[0], id="region", clearable=False),
        html.Button("Forget cached reports", id="forget"),
        html.P(id="timing"),
        html.Pre(id="report"),
    ]
)


@cache.memoize()
async def build_report(region: str) -> dict[str, Any]:
    """The slow part: a query, an HTTP call... Runs once per region until it expires."""
    await asyncio.sleep(DELAY)
    total = sum(ord(ch) for ch in region) * 1000
    return {"region": region, "total": total, "computed_at": time.time()}


@app.callback(
    Output("report", "children"),
    Output("timing", "children"),
    Input("region", "value"),
    Input("forget", "n_clicks"),
)
async def show_report(region: str, forget: int | None) -> tuple[str, str]:
    if ctx.triggered_id == "forget":
        await cache.delete_memoized(build_report)
    started = time.time()
    report = await build_report(region)
    elapsed = time.time() - started
    if report["computed_at"] >= started:
        timing = f"computed in {elapsed:.3f} s"
    else:
        timing = f"from the cache in {elapsed * 1000:.2f} ms"
    return f"{report['region']}: total sales {report['total']:,}", timing


if __name__ == "__main__":
    app.run(debug=True)
