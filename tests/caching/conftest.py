from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from dash_quart_caching import Cache
from quart import Quart

from dash_quart.testing import free_port, wait_for_port
from tests.conftest import ROOT

#: Cache tests use their own Redis database, emptied before each test.
REDIS_DB = 5

BACKENDS = ["simple", "filesystem", "redis"]

MakeCache = Callable[..., tuple[Quart, Cache]]


def db_url(redis_url: str, db: int = REDIS_DB) -> str:
    return f"{redis_url.rsplit('/', 1)[0]}/{db}"


def flushed(redis_url: str) -> str:
    """The cache tests' database of the shared redis-server, emptied."""
    url = db_url(redis_url)
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


@pytest.fixture(name="cache_redis_url")
def _cache_redis_url(redis_url: str) -> str:
    """The shared redis-server, on the cache tests' database, emptied first."""
    return flushed(redis_url)


def backend_config(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    if name == "simple":
        return {"CACHE_TYPE": "SimpleCache"}
    if name == "filesystem":
        return {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(tmp_path / "fscache")}
    if name == "redis":
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": request.getfixturevalue(
            "cache_redis_url"
        )}
    if name == "null":
        return {"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True}
    raise AssertionError(name)


@pytest.fixture(name="make_cache")
async def _make_cache() -> AsyncIterator[MakeCache]:
    """A factory of (Quart app, Cache) pairs whose connections are closed afterwards."""
    made: list[tuple[Quart, Cache]] = []

    def _factory(config: dict[str, Any], app: Quart | None = None) -> tuple[Quart, Cache]:
        app = app or Quart(__name__)
        cache = Cache(app, config=config)
        made.append((app, cache))
        return app, cache

    yield _factory
    for app, cache in made:
        async with app.app_context():
            await cache.close()


@pytest.fixture(params=BACKENDS, name="backend")
def _backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """The config of each real backend in turn."""
    return backend_config(request.param, request, tmp_path)


@pytest.fixture(name="cache_app")
async def _cache_app(
    make_cache: MakeCache, backend: dict[str, Any]
) -> AsyncIterator[tuple[Quart, Cache]]:
    """An app and its cache, on each real backend, inside an app context."""
    app, cache = make_cache(backend)
    async with app.app_context():
        yield app, cache


@pytest.fixture(name="caching_env")
def _caching_env(subprocess_env: dict[str, str]) -> dict[str, str]:
    """Child-process environment with the repository and the extension importable."""
    env = dict(subprocess_env)
    paths = [str(ROOT), str(ROOT / "extensions" / "caching"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


class RedisServer:
    """A redis-server of one test's own, which the test may stop."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is missing: install the Debian package redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, timeout=15)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        deadline = time.monotonic() + 10
        while _port_open(self.port):
            if time.monotonic() > deadline:
                raise TimeoutError(f"redis-server still listens on {self.port}")
            time.sleep(0.05)


def _port_open(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture(name="own_redis")
def _own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    try:
        yield server
    finally:
        server.stop()
