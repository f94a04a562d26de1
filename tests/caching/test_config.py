"""Configuration: upstream's keys and defaults, precedence, and errors that name the fix."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import redis
from dash_quart_caching import DEFAULTS, BaseCache, Cache, NullCache, SimpleCache
from quart import Quart

from tests.conftest import ROOT

from .conftest import MakeCache


def make_backend(
    app: Quart, config: dict[str, Any], args: list[Any], kwargs: dict[str, Any]
) -> Any:
    return SimpleCache(threshold=3, default_timeout=kwargs["default_timeout"])


class NotABackend:
    pass


@pytest.mark.parametrize(
    ("cache_type", "error", "message"),
    [
        ("MemcachedCache", ValueError, r"Unknown CACHE_TYPE 'MemcachedCache'.*'SimpleCache'"),
        ("flask_caching.backends.SimpleCache", ValueError, r"Set CACHE_TYPE = 'SimpleCache'"),
        ("cachelib.SimpleCache", ValueError, r"async one"),
        ("no.such.module.Cache", ValueError, r"cannot be imported"),
        ("dash_quart_caching.backends.NoSuchCache", ValueError, r"has no attribute"),
        ("tests.caching.test_config.NotABackend", TypeError, r"subclass .*BaseCache"),
    ],
)
def test_bad_cache_type_names_the_fix(
    cache_type: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Cache(Quart(__name__), config={"CACHE_TYPE": cache_type})


def test_bad_values_name_the_fix() -> None:
    with pytest.raises(ValueError, match="must be an instance of dict"):
        Cache(Quart(__name__), config=[("CACHE_TYPE", "SimpleCache")])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"hashlib\.sha256"):
        Cache(Quart(__name__), config={"CACHE_TYPE": "simple", "CACHE_HASH_METHOD": "sha256"})
    with pytest.raises(ValueError, match="decode_responses"):
        Cache(Quart(__name__), config={"CACHE_TYPE": "redis",
                                      "CACHE_OPTIONS": {"decode_responses": True}})
    with pytest.raises(TypeError, match=r"backend='quart'"):
        Cache(object())


def test_dash_app_on_flask_is_refused() -> None:
    from dash import Dash

    with pytest.raises(TypeError, match=r"does not run on Quart.*backend='quart'"):
        Cache(Dash(__name__, backend="flask"))


async def test_dotted_factory(make_cache: MakeCache) -> None:
    app, cache = make_cache({"CACHE_TYPE": "tests.caching.test_config.make_backend"})
    async with app.app_context():
        assert isinstance(cache.cache, SimpleCache)
        assert cache.cache._threshold == 3


def test_null_cache_warns_like_upstream() -> None:
    with pytest.warns(UserWarning, match="NullCache"):
        Cache(Quart(__name__))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Cache(Quart(__name__), config={"CACHE_TYPE": "null", "CACHE_NO_NULL_WARNING": True})


async def test_precedence_and_app_config_untouched(make_cache: MakeCache) -> None:
    app = Quart(__name__)
    app.config.update(CACHE_TYPE="NullCache", CACHE_DEFAULT_TIMEOUT=10, CACHE_THRESHOLD=7)
    before = dict(app.config)
    cache = Cache(config={"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 20})
    cache.init_app(app, config={"CACHE_DEFAULT_TIMEOUT": 30})
    assert dict(app.config) == before
    async with app.app_context():
        backend = cache.cache
        assert isinstance(backend, SimpleCache)
        assert backend.default_timeout == 30
        assert backend._threshold == 7
        await cache.close()


async def test_several_caches_and_several_apps() -> None:
    first_app, second_app = Quart("first"), Quart("second")
    shared = Cache(config={"CACHE_TYPE": "SimpleCache"})
    shared.init_app(first_app)
    shared.init_app(second_app)
    other = Cache(first_app, config={"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True})
    assert set(first_app.extensions["cache"]) == {shared, other}
    assert isinstance(first_app.extensions["cache"][other], NullCache)
    async with first_app.app_context():
        await shared.set("k", "first")
        await other.set("k", "ignored")
        assert await other.get("k") is None
    async with second_app.app_context():
        assert await shared.get("k") is None
    async with first_app.app_context():
        assert await shared.get("k") == "first"


async def test_errors_outside_an_app_or_before_init_app() -> None:
    cache = Cache()
    with pytest.raises(RuntimeError, match="app_context"):
        await cache.get("k")
    async with Quart(__name__).app_context():
        with pytest.raises(RuntimeError, match=r"cache\.init_app\(app\)"):
            await cache.get("k")


def test_async_generators_cannot_be_cached() -> None:
    cache = Cache(Quart(__name__), config={"CACHE_TYPE": "SimpleCache"})

    async def rows() -> Any:
        yield 1

    with pytest.raises(TypeError, match="return a list"):
        cache.memoize()(rows)


async def test_redis_from_host_port_db_and_options(redis_url: str, make_cache: MakeCache) -> None:
    port = int(re.findall(r":(\d+)/", redis_url)[0])
    app, cache = make_cache({
        "CACHE_TYPE": "RedisCache", "CACHE_REDIS_HOST": "127.0.0.1", "CACHE_REDIS_PORT": port,
        "CACHE_REDIS_DB": 7, "CACHE_KEY_PREFIX": "myapp:", "CACHE_OPTIONS": {"client_name": "dqc"},
    })
    client = redis.Redis(host="127.0.0.1", port=port, db=7)
    try:
        client.flushdb()
        async with app.app_context():
            await cache.set("k", "v", timeout=100)
            assert client.exists("myapp:k")
            assert 0 < client.ttl("myapp:k") <= 100
            names = [c["name"] for c in client.client_list()]
            assert "dqc" in names
            await cache.clear()
            assert not client.exists("myapp:k")
    finally:
        client.flushdb()
        client.close()


async def test_jitter_spreads_timeouts(cache_redis_url: str, make_cache: MakeCache) -> None:
    app, cache = make_cache(
        {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": cache_redis_url, "CACHE_JITTER": 0.5}
    )

    @cache.cached(timeout=100, key_prefix="jitter")
    async def value() -> int:
        return 1

    @cache.cached(key_prefix="jitter-default")
    async def default() -> int:
        return 1

    client = redis.Redis.from_url(cache_redis_url)
    try:
        async with app.app_context():
            await value()
            await default()
        assert 100 <= client.ttl("flask_cache_jitter") <= 150
        assert 300 <= client.ttl("flask_cache_jitter-default") <= 450
    finally:
        client.close()


def test_readme_documents_every_default() -> None:
    readme = (ROOT / "extensions" / "caching" / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(CACHE_[A-Z_0-9]+)` \|[^|]*\| ([^|]+) \|", readme, re.M))
    assert set(rows) == set(DEFAULTS)
    for key, default in DEFAULTS.items():
        shown = rows[key].strip().strip("`")
        if callable(default):
            assert shown == f"hashlib.{default.__name__.removeprefix('openssl_')}", key
        else:
            assert shown == repr(default), key


def test_importing_does_not_import_dash(caching_env: dict[str, str]) -> None:
    code = "import sys, dash_quart_caching; print('dash' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], env=caching_env, cwd=Path(ROOT),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_base_cache_defaults() -> None:
    backend = BaseCache(default_timeout=5)
    assert backend.default_timeout == 5
    assert backend.stores and not backend.shared


def test_redis_cache_without_redis_names_the_extra(caching_env: dict[str, str]) -> None:
    code = (
        "import sys; sys.modules['redis'] = None; sys.modules['redis.asyncio'] = None\n"
        "from quart import Quart\nfrom dash_quart_caching import Cache\n"
        "try:\n    Cache(Quart('x'), config={'CACHE_TYPE': 'RedisCache'})\n"
        "except RuntimeError as error:\n    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=caching_env, cwd=Path(ROOT),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pip install 'dash-quart-caching[redis]'" in done.stdout


@pytest.mark.parametrize(
    "name", ["cached", "memoize", "delete_memoized", "delete_memoized_verhash", "delete_cached"]
)
def test_decorators_take_upstream_parameters_in_order(name: str) -> None:
    import inspect

    import flask_caching

    upstream = inspect.signature(getattr(flask_caching.Cache, name)).parameters
    ours = inspect.signature(getattr(Cache, name)).parameters
    assert list(ours) == list(upstream)
    for param in upstream.values():
        assert ours[param.name].default == param.default, param.name


@pytest.mark.parametrize("flag", [True, False])
async def test_flask_caching_signature_with_jinja2_ext(flag: bool) -> None:
    """``Cache(app, with_jinja2_ext, config)`` as in Flask-Caching, positional or keyword."""
    server = Quart(__name__)
    positional = Cache(server, flag, {"CACHE_TYPE": "SimpleCache", "CACHE_KEY_PREFIX": "p:"})
    keyword = Cache(server, with_jinja2_ext=flag, config={"CACHE_TYPE": "SimpleCache"})
    async with server.app_context():
        assert isinstance(positional.cache, SimpleCache)
        await positional.set("k", "from positional")
        await keyword.set("k", "from keyword")
        assert await positional.get("k") == "from positional"
        assert await keyword.get("k") == "from keyword"


async def test_config_as_second_positional_argument_still_works() -> None:
    server = Quart(__name__)
    cache = Cache(server, {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 7})
    async with server.app_context():
        assert isinstance(cache.cache, SimpleCache)
        assert cache.cache.default_timeout == 7
    with pytest.raises(TypeError, match="two configs"):
        Cache(server, {"CACHE_TYPE": "SimpleCache"}, {"CACHE_TYPE": "SimpleCache"})
    with pytest.raises(TypeError, match="with_jinja2_ext must be a bool"):
        Cache(server, "yes")  # type: ignore[arg-type]
