"""Hits and misses match Flask-Caching's, scenario by scenario.

Every scenario runs on real Flask-Caching (Flask, SimpleCache) and on dash-quart-caching
(SimpleCache and RedisCache, ``async def`` functions, and ``def`` functions in worker
threads). The observations, return values and call counts, must be equal.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from werkzeug.exceptions import abort

from .conftest import flushed
from .harness import Harness, Ours, Upstream

Scenario = Callable[[Harness], Awaitable[list[Any]]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(fn: Scenario) -> Scenario:
    SCENARIOS[fn.__name__] = fn
    return fn


@scenario
async def memoize_arguments(h: Harness) -> list[Any]:
    calls = Counter[str]()

    def add(a: int, b: int = 2) -> int:
        calls["add"] += 1
        return a + b

    f = h.memoize(add, timeout=60)
    out = []
    for args, kwargs in [
        ((1,), {}), ((1,), {}), ((1, 2), {}), ((), {"a": 1}), ((), {"a": 1, "b": 2}),
        ((2,), {}), ((1, 3), {}), ((1,), {"b": 3}),
    ]:
        out.append((await h.call(f, *args, **kwargs), calls["add"]))
    return out


@scenario
async def unless(h: Harness) -> list[Any]:
    calls = Counter[str]()
    state = {"skip": False}

    def value(x: int) -> int:
        calls["value"] += 1
        return x

    def negative(x: int) -> int:
        calls["negative"] += 1
        return x

    plain = h.memoize(value, unless=lambda: state["skip"])
    with_args = h.memoize(negative, unless=lambda f, x: x < 0)
    out = []
    for skip in (False, False, True, True, False):
        state["skip"] = skip
        await h.call(plain, 1)
        out.append(calls["value"])
    for x in (1, 1, -1, -1):
        await h.call(with_args, x)
        out.append(calls["negative"])
    return out


@scenario
async def forced_update(h: Harness) -> list[Any]:
    calls = Counter[str]()
    state = {"force": False}

    def value(x: int) -> int:
        calls["value"] += 1
        return calls["value"]

    f = h.memoize(value, forced_update=lambda: state["force"])
    g = h.memoize(lambda x: value(x) * 10, forced_update=lambda x: x == 2)
    out = []
    for force in (False, False, True, False):
        state["force"] = force
        out.append(await h.call(f, 1))
    for x in (1, 1, 2, 2, 1):
        out.append(await h.call(g, x))
    return out


@scenario
async def args_to_ignore(h: Harness) -> list[Any]:
    calls = Counter[str]()

    def load(a: int, verbose: bool = False, tracer: object = None) -> int:
        calls["load"] += 1
        return a

    f = h.memoize(load, args_to_ignore=["verbose", "tracer"])
    out = []
    for args, kwargs in [
        ((1,), {}), ((1, True), {}), ((1,), {"verbose": True, "tracer": object()}), ((2,), {}),
    ]:
        await h.call(f, *args, **kwargs)
        out.append(calls["load"])
    return out


@scenario
async def delete_memoized(h: Harness) -> list[Any]:
    calls = Counter[str]()

    def square(x: int) -> int:
        calls["square"] += 1
        return x * x

    f = h.memoize(square)
    out = []

    async def both() -> None:
        await h.call(f, 1)
        await h.call(f, 2)
        out.append(calls["square"])

    await both()
    await both()
    await h.delete_memoized(f, 1)
    await both()
    await h.delete_memoized(f)
    await both()
    await h.delete_memoized(f, x=2)
    await both()
    await h.delete_memoized_verhash(f)
    await both()
    return out


@scenario
async def methods(h: Harness) -> list[Any]:
    calls = Counter[str]()

    class Adder:
        def __init__(self, name: str) -> None:
            self.name = name

        def __repr__(self) -> str:
            return f"Adder({self.name})"

        def _add(self, b: int) -> str:
            calls[self.name] += 1
            return f"{self.name}+{b}"

        add = h.memoize(_add)

    one, two = Adder("one"), Adder("two")
    out = []

    async def both() -> None:
        await h.call(one.add, 3)
        await h.call(two.add, 3)
        out.append((calls["one"], calls["two"]))

    await both()
    await both()
    await h.delete_memoized(one.add)
    await both()
    await h.delete_memoized(Adder.add)
    await both()
    await h.delete_memoized(two.add, 3)
    await both()
    return out


@scenario
async def make_name(h: Harness) -> list[Any]:
    calls = Counter[str]()

    def first(x: int) -> str:
        calls["first"] += 1
        return "first"

    def second(x: int) -> str:
        calls["second"] += 1
        return "second"

    f = h.memoize(first, make_name=lambda name: "shared")
    g = h.memoize(second, make_name=lambda name: "shared")
    renamed = h.memoize(first, make_name=lambda name: name + "_v2")
    return [
        await h.call(f, 1), await h.call(g, 1), await h.call(f, 1), await h.call(renamed, 1),
        await h.call(renamed, 1), dict(calls),
    ]


@scenario
async def cache_none(h: Harness) -> list[Any]:
    calls = Counter[str]()

    def nothing() -> None:
        calls["nothing"] += 1

    def nothing_cached() -> None:
        calls["nothing_cached"] += 1

    f = h.memoize(nothing)
    g = h.memoize(nothing_cached, cache_none=True)
    view = h.cached(nothing, key_prefix="const-none")
    for _ in range(3):
        await h.call(f)
        await h.call(g)
    await h.call(view)
    await h.call(view)
    return [dict(calls)]


@scenario
async def response_filter(h: Harness) -> list[Any]:
    calls = Counter[str]()

    def double(x: int) -> int:
        calls["double"] += 1
        return x * 2

    f = h.memoize(double, response_filter=lambda rv: rv < 10)
    out = []
    for x in (1, 1, 10, 10, 1):
        out.append((await h.call(f, x), calls["double"]))
    return out


@scenario
async def is_stale(h: Harness) -> list[Any]:
    calls = Counter[str]()

    def tick(x: int) -> int:
        calls["tick"] += 1
        return calls["tick"]

    f = h.memoize(tick, is_stale=lambda rv: rv < 2)
    g = h.memoize(tick, is_stale=lambda rv, x: rv + x < 5)
    return [await h.call(f, 1) for _ in range(3)] + [await h.call(g, 1) for _ in range(4)]


@scenario
async def timeouts(h: Harness) -> list[Any]:
    calls = Counter[str]()

    def stamp(x: int) -> int:
        calls["stamp"] += 1
        return calls["stamp"]

    f = h.memoize(stamp, timeout=2)
    out = [await h.call(f, 1), await h.call(f, 1)]
    deadline = time.monotonic() + 8
    while await h.call(f, 1) == 1:
        assert time.monotonic() < deadline, "the value did not expire"
        await asyncio.sleep(0.1)
    out.append(calls["stamp"])
    out.append(await h.call(f, 1))
    return out


@scenario
async def cached_function(h: Harness) -> list[Any]:
    calls = Counter[str]()

    def listing() -> list[int]:
        calls["listing"] += 1
        return [calls["listing"]]

    f = h.cached(listing, key_prefix="MyCachedList", timeout=60)
    g = h.cached(listing, key_prefix=lambda: "computed-prefix")
    return [await h.call(f), await h.call(f), await h.call(g), await h.call(g), dict(calls)]


@scenario
async def views(h: Harness) -> list[Any]:
    calls = Counter[str]()
    state = {"skip": False, "force": False}

    def items() -> str:
        calls["items"] += 1
        return f"items {calls['items']}"

    def plain() -> str:
        calls["plain"] += 1
        return f"plain {calls['plain']}"

    def user(name: str) -> str:
        calls[name] += 1
        return f"user {name} {calls[name]}"

    def flaky() -> tuple[str, int]:
        calls["flaky"] += 1
        return "failed", 500

    def missing() -> str:
        calls["missing"] += 1
        abort(404)

    def marked() -> str:
        calls["marked"] += 1
        return "marked"

    def switches() -> str:
        calls["switches"] += 1
        return f"switches {calls['switches']}"

    items_view = h.view("/items", items, query_string=True)
    h.view("/plain", plain)
    h.view("/user/<name>", user)
    h.view("/flaky", flaky, response_filter=lambda rv: not isinstance(rv, tuple))
    h.view("/missing", missing)
    h.view("/marked", marked, response_hit_indication=True)
    h.view(
        "/switches", switches, unless=lambda: state["skip"], forced_update=lambda: state["force"]
    )
    paths = [
        "/items?a=1&b=2", "/items?b=2&a=1", "/items?a=2", "/items", "/items?a=1&b=2",
        "/plain?x=1", "/plain?x=2", "/user/ada", "/user/ada", "/user/bob",
        "/flaky", "/flaky", "/missing", "/missing", "/switches", "/switches", "/marked",
        "/marked",
    ]
    out = [await h.get(path) for path in paths]
    state["skip"] = True
    out.append(await h.get("/switches"))
    state["skip"], state["force"] = False, True
    out.append(await h.get("/switches"))
    state["force"] = False
    out.append(await h.get("/switches"))
    await h.delete_cached(items_view, path="/items", query_args="b=2&a=1")
    out.append(await h.get("/items?a=1&b=2"))
    out.append(dict(calls))
    return out


@pytest.fixture(
    params=["SimpleCache-async", "RedisCache-async", "SimpleCache-sync", "RedisCache-sync"],
    name="ours",
)
async def _ours(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Harness]:
    backend, mode = request.param.split("-")
    config: dict[str, Any] = {"CACHE_TYPE": backend}
    if backend == "RedisCache":
        config["CACHE_REDIS_URL"] = flushed(redis_url)
    harness = Ours(config, sync=mode == "sync")
    yield harness
    await harness.close()


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_parity(name: str, ours: Harness) -> None:
    expected, observed = await asyncio.gather(SCENARIOS[name](Upstream()), SCENARIOS[name](ours))
    assert observed == expected


async def test_predicates_may_be_async() -> None:
    state = {"skip": False, "force": False}
    calls = Counter[str]()

    async def unless() -> bool:
        return state["skip"]

    async def forced_update() -> bool:
        return state["force"]

    async def response_filter(rv: int) -> bool:
        return rv < 10

    async def is_stale(rv: int) -> bool:
        return rv == 3

    def value(x: int) -> int:
        calls[str(x)] += 1
        return x + calls[str(x)] - 1

    for sync in (False, True):
        calls.clear()
        harness = Ours({"CACHE_TYPE": "SimpleCache"}, sync=sync)
        f = harness.memoize(
            value, unless=unless, forced_update=forced_update,
            response_filter=response_filter, is_stale=is_stale,
        )
        observed = [await harness.call(f, 1), await harness.call(f, 1)]
        state["skip"] = True
        observed.append(await harness.call(f, 1))
        state["skip"], state["force"] = False, True
        observed.append(await harness.call(f, 1))
        state["force"] = False
        observed += [await harness.call(f, 1), await harness.call(f, 1)]
        observed += [await harness.call(f, 20), await harness.call(f, 20)]
        assert observed == [1, 1, 2, 3, 4, 4, 20, 21], sync
        await harness.close()
