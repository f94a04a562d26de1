"""Keys are Flask-Caching's, byte for byte, and stable for equal arguments."""

from __future__ import annotations

import hashlib
import random
from collections.abc import AsyncIterator
from typing import Any

import flask
import flask_caching
import pytest
from dash_quart_caching import Cache
from dash_quart_caching.keys import canonical, function_namespace
from hypothesis import given
from hypothesis import strategies as st
from quart import Quart

VERSION = "v1v1v1"


def report(region: str, year: int = 2024, *extra: Any, **filters: Any) -> str:
    return region


def view(name: str) -> str:
    return name


class Shop:
    def __repr__(self) -> str:
        return "Shop(1)"

    def stock(self, item: str) -> int:
        return 1


@pytest.fixture(name="pair")
async def _pair() -> AsyncIterator[tuple[flask_caching.Cache, Cache, Quart]]:
    flask_app = flask.Flask("upstream")
    upstream = flask_caching.Cache(flask_app, config={"CACHE_TYPE": "SimpleCache"})
    app = Quart("ours")
    ours = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    async with app.app_context():
        yield upstream, ours, app


async def _seed(upstream: flask_caching.Cache, ours: Cache, f: Any, args: Any = None) -> None:
    for name in function_namespace(f, args):
        if name:
            upstream.set(name + "_memver", VERSION)
            await ours.set(name + "_memver", VERSION)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("eu",), {}),
        (("eu", 2024), {}),
        ((), {"region": "eu"}),
        (("eu", 2023, "x", "y"), {"kind": "sales", "a": 1}),
        (({"index": 1, "type": "out"},), {}),
        (([1, [2, 3]], None), {"flags": {"a": True, "b": None}}),
    ],
)
@pytest.mark.parametrize(
    "options",
    [{}, {"args_to_ignore": ["year"]}, {"make_name": str.upper}, {"hash_method": hashlib.md5}],
)
async def test_memoize_keys_match_upstream(
    pair: tuple[flask_caching.Cache, Cache, Quart],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    options: dict[str, Any],
) -> None:
    upstream, ours, _ = pair
    up = upstream.memoize(**options)(report)
    mine = ours.memoize(**options)(report)
    await _seed(upstream, ours, report)
    expected = up.make_cache_key(up.uncached, *args, **kwargs)
    assert await mine.make_cache_key(mine.uncached, *args, **kwargs) == expected
    assert expected.endswith(VERSION)


async def test_method_keys_match_upstream(pair: tuple[flask_caching.Cache, Cache, Quart]) -> None:
    upstream, ours, _ = pair
    up = upstream.memoize()(Shop.stock)
    mine = ours.memoize()(Shop.stock)
    shop = Shop()
    await _seed(upstream, ours, Shop.stock, (shop,))
    expected = up.make_cache_key(up.uncached, shop, "apple")
    assert await mine.make_cache_key(mine.uncached, shop, "apple") == expected


@pytest.mark.parametrize("source_check", [False, True])
@pytest.mark.parametrize(
    ("options", "path", "query"),
    [
        ({}, "/user/ada", None),
        ({"key_prefix": "report/%s"}, "/r", None),
        ({"key_prefix": "fixed"}, "/r", None),
        ({"query_string": True}, "/items", "b=2&a=1"),
        ({"query_string": True, "key_prefix": "q/%s/"}, "/items", {"a": 1, "b": 2}),
        ({"query_string": True, "hash_method": hashlib.sha1}, "/items", [("a", "1")]),
    ],
)
async def test_cached_keys_match_upstream(
    pair: tuple[flask_caching.Cache, Cache, Quart],
    options: dict[str, Any],
    path: str,
    query: Any,
    source_check: bool,
) -> None:
    upstream, ours, _ = pair
    up = upstream.cached(source_check=source_check, **options)(view)
    mine = ours.cached(source_check=source_check, **options)(view)
    expected = up.make_cache_key(path=path, query_args=query)
    assert mine.make_cache_key(path=path, query_args=query) == expected


async def test_equal_dict_arguments_share_a_key(
    pair: tuple[flask_caching.Cache, Cache, Quart],
) -> None:
    _, ours, _ = pair
    mine = ours.memoize()(report)
    first = await mine.make_cache_key(mine.uncached, {"type": "out", "index": 1}, tags={2, 1})
    second = await mine.make_cache_key(mine.uncached, {"index": 1, "type": "out"}, tags={1, 2})
    assert first == second
    other = await mine.make_cache_key(mine.uncached, {"index": 2, "type": "out"})
    assert other != first


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


@given(JSON, st.randoms(use_true_random=False))
def test_canonical_ignores_dict_order(value: Any, rng: random.Random) -> None:
    assert repr(canonical(_shuffled(value, rng))) == repr(canonical(value))


@given(JSON)
def test_canonical_keeps_sorted_values_as_they_are(value: Any) -> None:
    ordered = _sorted(value)
    assert canonical(ordered) is ordered
