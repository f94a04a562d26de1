"""Per-call latency of the cache API, in process: dash-quart-caching against Flask-Caching.

Each library gets its own app and its own store (a directory, a Redis database) of the same
backend. Ours is awaited on an event loop inside ``async with app.app_context()``;
Flask-Caching is called inside ``with app.app_context()``. Every operation is warmed up, then
timed call by call with :func:`time.perf_counter_ns`.
"""

from __future__ import annotations

import asyncio
import math
import pickle
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import flask
import flask_caching
from dash_quart_caching import Cache
from quart import Quart

BACKENDS = ("simple", "filesystem", "redis")
LIBRARIES = ("ours", "flask_caching")
OPERATIONS = ("get_hit", "get_hit_10k", "get_miss", "memoize_hit")

#: What each operation does, for the report.
DESCRIPTIONS = {
    "get_hit": "cache.get of a small dict",
    "get_hit_10k": "cache.get of a list of 110 dicts",
    "get_miss": "cache.get of a missing key",
    "memoize_hit": "call of a @cache.memoize() function whose value is cached",
}

SMALL: dict[str, Any] = {"id": 7, "name": "widget", "tags": ["a", "b"], "price": 9.5}
LARGE: list[dict[str, Any]] = [
    {"id": i, "name": f"row {i}", "price": i * 1.5, "note": f"{i}: " + "lorem ipsum dolor " * 3}
    for i in range(110)
]
VALUE_BYTES = {
    "small": len(pickle.dumps(SMALL, pickle.HIGHEST_PROTOCOL)),
    "10k": len(pickle.dumps(LARGE, pickle.HIGHEST_PROTOCOL)),
}

#: Redis databases of the two libraries, so that neither reads the other's keys.
REDIS_DB = {"ours": 0, "flask_caching": 1}


class CheckError(RuntimeError):
    """A cache returned something other than what was stored."""


def config(backend: str, library: str, directory: Path, redis_url: str | None) -> dict[str, Any]:
    """The same ``CACHE_*`` configuration for either library (its own directory or database)."""
    if backend == "simple":
        return {"CACHE_TYPE": "SimpleCache"}
    if backend == "filesystem":
        return {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(directory / library)}
    if backend == "redis":
        if redis_url is None:
            raise ValueError("the redis backend needs a Redis URL")
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": f"{redis_url}/{REDIS_DB[library]}"}
    raise ValueError(f"unknown backend {backend!r}")


def percentile(ordered: list[int], q: float) -> int:
    """The nearest-rank ``q`` percentile (0-100) of sorted samples."""
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))]


def summarise(samples_ns: Iterable[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    return {
        "n": len(ordered),
        "p50_us": round(percentile(ordered, 50) / 1000, 2),
        "p99_us": round(percentile(ordered, 99) / 1000, 2),
        "mean_us": round(statistics.fmean(ordered) / 1000, 2),
    }


def _check(what: str, got: Any, expected: Any) -> None:
    if got != expected:
        raise CheckError(f"{what}: expected {expected!r:.80}, got {got!r:.80}")


async def _time_async(op: Callable[[], Awaitable[Any]], n: int, warmup: int) -> dict[str, float]:
    for _ in range(warmup):
        await op()
    samples: list[int] = []
    clock = time.perf_counter_ns
    for _ in range(n):
        started = clock()
        await op()
        samples.append(clock() - started)
    return summarise(samples)


def _time_sync(op: Callable[[], Any], n: int, warmup: int) -> dict[str, float]:
    for _ in range(warmup):
        op()
    samples: list[int] = []
    clock = time.perf_counter_ns
    for _ in range(n):
        started = clock()
        op()
        samples.append(clock() - started)
    return summarise(samples)


async def _ours(settings: dict[str, Any], n: int, warmup: int) -> dict[str, dict[str, float]]:
    app = Quart("bench_caching_ours")
    cache = Cache(app, config=settings)
    computed = 0

    @cache.memoize(timeout=300)
    async def lookup(item: int) -> dict[str, Any]:
        nonlocal computed
        computed += 1
        return SMALL

    async with app.app_context():
        await cache.clear()
        await cache.set("small", SMALL)
        await cache.set("large", LARGE)
        _check("get small", await cache.get("small"), SMALL)
        _check("get 10 KB", await cache.get("large"), LARGE)
        _check("get missing", await cache.get("missing"), None)
        _check("memoize", [await lookup(7), await lookup(7), computed], [SMALL, SMALL, 1])
        ops: dict[str, Callable[[], Awaitable[Any]]] = {
            "get_hit": lambda: cache.get("small"),
            "get_hit_10k": lambda: cache.get("large"),
            "get_miss": lambda: cache.get("missing"),
            "memoize_hit": lambda: lookup(7),
        }
        try:
            timed = {name: await _time_async(op, n, warmup) for name, op in ops.items()}
        finally:
            await cache.clear()
            await cache.close()
    _check("memoize computations", computed, 1)
    return timed


def _upstream(settings: dict[str, Any], n: int, warmup: int) -> dict[str, dict[str, float]]:
    app = flask.Flask("bench_caching_upstream")
    cache = flask_caching.Cache(app, config=settings)
    computed = 0

    @cache.memoize(timeout=300)
    def lookup(item: int) -> dict[str, Any]:
        nonlocal computed
        computed += 1
        return SMALL

    with app.app_context():
        cache.clear()
        cache.set("small", SMALL)
        cache.set("large", LARGE)
        _check("get small", cache.get("small"), SMALL)
        _check("get 10 KB", cache.get("large"), LARGE)
        _check("get missing", cache.get("missing"), None)
        _check("memoize", [lookup(7), lookup(7), computed], [SMALL, SMALL, 1])
        ops: dict[str, Callable[[], Any]] = {
            "get_hit": lambda: cache.get("small"),
            "get_hit_10k": lambda: cache.get("large"),
            "get_miss": lambda: cache.get("missing"),
            "memoize_hit": lambda: lookup(7),
        }
        try:
            timed = {name: _time_sync(op, n, warmup) for name, op in ops.items()}
        finally:
            cache.clear()
    _check("memoize computations", computed, 1)
    return timed


def measure(
    backend: str, library: str, *, n: int, warmup: int, redis_url: str | None
) -> dict[str, dict[str, float]]:
    """Per-operation latency summary of one library on one backend."""
    with tempfile.TemporaryDirectory(prefix="bench-caching-fs-") as tmp:
        settings = config(backend, library, Path(tmp), redis_url)
        if library == "ours":
            return asyncio.run(_ours(settings, n, warmup))
        return _upstream(settings, n, warmup)


def medians(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (backend, operation, library): medians of p50 and p99 over the reps."""
    groups: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    for run in runs:
        for op, stats in run["ops"].items():
            groups.setdefault((run["backend"], op, run["library"]), []).append(stats)
    rows: list[dict[str, Any]] = []
    for (backend, op, library), stats in groups.items():
        rows.append(
            {
                "backend": backend,
                "operation": op,
                "library": library,
                "reps": len(stats),
                "p50_us": round(statistics.median(s["p50_us"] for s in stats), 2),
                "p99_us": round(statistics.median(s["p99_us"] for s in stats), 2),
                "mean_us": round(statistics.median(s["mean_us"] for s in stats), 2),
                "p50_us_reps": [s["p50_us"] for s in stats],
            }
        )
    order = {name: i for i, name in enumerate((*BACKENDS, *OPERATIONS, *LIBRARIES))}
    rows.sort(key=lambda r: (order[r["backend"]], order[r["operation"]], order[r["library"]]))
    return rows
