"""Reports whose async computation is memoized with dash_quart_caching."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from dash_quart_caching import Cache
from dash_quart_login import login_required
from quart import Blueprint, Quart

REGIONS = {"emea": 4, "americas": 7, "apac": 5}
blueprint = Blueprint("reports", __name__, url_prefix="/api/reports")
cache = Cache()


def cache_config() -> dict[str, Any]:
    url = os.environ.get("REDIS_URL")
    if url:
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url,
                "CACHE_KEY_PREFIX": "showcase_", "CACHE_DEFAULT_TIMEOUT": 300}
    return {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}


@cache.memoize(timeout=300)
async def region_report(region: str) -> dict[str, Any]:
    """A slow report: computed once, then served from the cache by every worker."""
    await asyncio.sleep(float(os.environ.get("SHOWCASE_REPORT_SECONDS", "1.5")))
    seed = REGIONS.get(region, 1)
    rows = [{"month": m, "revenue": seed * 1000 + m * 37 * seed} for m in range(1, 13)]
    return {
        "region": region,
        "rows": rows,
        "total": sum(r["revenue"] for r in rows),
        "computed_by": os.getpid(),
        "computed_at": time.time(),
    }


@blueprint.get("/<region>")
@login_required
async def report(region: str) -> Any:
    if region not in REGIONS:
        return {"error": f"unknown region {region!r}"}, 404
    return await region_report(region)


def init_app(server: Quart) -> None:
    cache.init_app(server, config=cache_config())
    server.register_blueprint(blueprint)
