"""Throughput of a memoized ``async def`` Dash callback under wrk, against the same uncached.

The app is ``bench/apps/caching_dash.py`` on Hypercorn with 2 workers. wrk POSTs one
callback request with a fixed input, so that every request after the first per cache is a
hit, at c=50 for throughput and at c=1 for the latency of a single client. Servers, warm-up,
wrk script and medians are :mod:`bench.run`'s.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .. import report
from ..configs import WORKERS, ServerConfig
from ..run import Session
from ..workloads import Workload

APP = "bench.apps.caching_dash:server"
WORKLOAD = Workload(
    "memo", "async def callback: await asyncio.sleep(0.005), then summarise 50 rows"
)
CONCURRENCY = [1, 50]
UNCACHED = "uncached"

#: Configuration name, ``BENCH_CACHE`` mode, description.
MODES = (
    (UNCACHED, "off", "the callback as it is"),
    ("memo_simple", "simple", "@cache.memoize() with SimpleCache, one cache per worker"),
    ("memo_redis", "redis", "@cache.memoize() with RedisCache, shared by the workers"),
)
#: The Redis database the app's RedisCache uses.
REDIS_DB = 2


def server_configs(redis_url: str) -> dict[str, ServerConfig]:
    return {
        name: ServerConfig(
            name,
            f"{description}; hypercorn, {WORKERS} workers",
            APP,
            "hypercorn",
            "QuartBackend",
            env={"BENCH_CACHE": mode, "BENCH_CACHE_REDIS_URL": f"{redis_url}/{REDIS_DB}"},
            workloads=(WORKLOAD.name,),
            info={"cache": mode},
        )
        for name, mode, description in MODES
    }


def run(args: argparse.Namespace, redis_url: str, log: Path) -> dict[str, Any]:
    """Every configuration, ``args.reps`` times, rotating the order; raw runs and medians.

    ``args`` needs ``reps``, ``duration``, ``warmup``, ``timeout`` and ``concurrency``.
    """
    configs = server_configs(redis_url)
    names = list(configs)
    session = Session(
        args,
        env={"PYTHONUNBUFFERED": "1"},
        log=log,
        total=args.reps * len(names) * len(args.concurrency),
        server_configs=configs,
        workloads={WORKLOAD.name: WORKLOAD},
    )
    for rep in range(1, args.reps + 1):
        shift = (rep - 1) % len(names)
        for name in names[shift:] + names[:shift]:
            session.serve(rep, name, [WORKLOAD.name])
    rows = report.medians(session.runs)
    return {
        "configs": {
            name: {"description": cfg.description, "command": cfg.command, "env": cfg.env}
            for name, cfg in configs.items()
        },
        "workload": {
            "name": WORKLOAD.name,
            "description": WORKLOAD.description,
            "body": WORKLOAD.body(),
            "expected": WORKLOAD.expected(),
        },
        "servers": session.servers,
        "runs": session.runs,
        "medians": rows,
        "ratios": ratios(rows, args.concurrency),
    }


def ratios(rows: list[dict[str, Any]], concurrency: list[int]) -> list[dict[str, Any]]:
    """rps and p50 of each memoized configuration against the uncached one."""
    out = []
    for c in concurrency:
        base = report.find(rows, UNCACHED, WORKLOAD.name, c)
        for name, _, _ in MODES[1:]:
            mine = report.find(rows, name, WORKLOAD.name, c)
            if base is None or mine is None:
                continue
            out.append(
                {
                    "config": name,
                    "c": c,
                    "rps": round(mine["rps"] / base["rps"], 2),
                    "p50": round(mine["p50_ms"] / base["p50_ms"], 2),
                    "p99": round(mine["p99_ms"] / base["p99_ms"], 2),
                }
            )
    return out
