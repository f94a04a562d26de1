"""Memoized Dash callbacks on Quart: async, sync (in the pool), and pattern-matching."""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import dash
from dash import ALL, MATCH, Dash, Input, Output, State, dcc, html
from dash_quart_caching import Cache

from dash_quart.testing import callback_body
from tests.conftest import MakeApp


def _stringify(component_id: dict[str, Any]) -> str:
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"))


def _match_body(index: int, value: str) -> dict[str, Any]:
    """``callback_body`` with dict ids, and the output and changed ids Dash's renderer sends."""
    in_id = {"type": "in", "index": index}
    body = callback_body(
        ({"type": "out", "index": index}, "children"),
        [(in_id, "value", value)],
        [(in_id, "id", dict(reversed(in_id.items())))],
    )
    body["output"] = '{"index":["MATCH"],"type":"out"}.children'
    body["changedPropIds"] = [f"{_stringify(in_id)}.value"]
    return body


def _all_body(values: list[str]) -> dict[str, Any]:
    inputs = [
        {"id": {"type": "in", "index": i}, "property": "value", "value": v}
        for i, v in enumerate(values)
    ]
    return {
        "output": "total.children",
        "outputs": {"id": "total", "property": "children"},
        "inputs": [inputs],
        "state": [],
        "changedPropIds": [f"{_stringify(inputs[0]['id'])}.value"],
    }


def _app(make_app: MakeApp) -> tuple[Dash, Counter[str]]:
    app = make_app()
    cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    calls = Counter[str]()
    app.layout = html.Div(
        [dcc.Input(id="in"), html.Div(id="async-out"), html.Div(id="sync-out"),
         html.Div(id="quiet"), html.Div(id="total")]
        + [dcc.Input(id={"type": "in", "index": i}) for i in range(3)]
        + [html.Div(id={"type": "out", "index": i}) for i in range(3)]
    )

    @app.callback(Output("async-out", "children"), Input("in", "value"))
    @cache.memoize(timeout=60)
    async def heavy(value: str) -> str:
        calls["async"] += 1
        return f"async {value}"

    @app.callback(Output("sync-out", "children"), Input("in", "value"))
    @cache.memoize(timeout=60)
    def heavy_sync(value: str) -> str:
        calls["sync"] += 1
        calls[threading.current_thread().name.rsplit("_", 1)[0]] += 1
        return f"sync {value} from {cache.sync.get('note')}"

    @app.callback(Output("quiet", "children"), Input("in", "value"))
    @cache.memoize(timeout=60)
    async def quiet(value: str) -> Any:
        calls["quiet"] += 1
        return dash.no_update

    @app.callback(
        Output({"type": "out", "index": MATCH}, "children"),
        Input({"type": "in", "index": MATCH}, "value"),
        State({"type": "in", "index": MATCH}, "id"),
    )
    @cache.memoize(timeout=60)
    async def per_row(value: str, component_id: dict[str, Any]) -> str:
        calls[f"row {component_id['index']}"] += 1
        return f"row {component_id['index']}: {value}"

    @app.callback(Output("total", "children"), Input({"type": "in", "index": ALL}, "value"))
    @cache.memoize(timeout=60)
    async def total(values: list[str]) -> str:
        calls["total"] += 1
        return "+".join(values)

    app.server.config["cache"] = cache
    return app, calls


async def _post(app: Dash, body: dict[str, Any]) -> Any:
    response = await app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return (await response.get_json())["response"]


async def test_async_and_sync_callbacks_are_memoized(make_app: MakeApp) -> None:
    app, calls = _app(make_app)
    cache: Cache = app.server.config["cache"]
    async with app.server.app_context():
        await cache.set("note", "the cache")
    for value in ("a", "a", "b", "a"):
        out = await _post(app, callback_body(("async-out", "children"), [("in", "value", value)]))
        assert out == {"async-out": {"children": f"async {value}"}}
        out = await _post(app, callback_body(("sync-out", "children"), [("in", "value", value)]))
        assert out == {"sync-out": {"children": f"sync {value} from the cache"}}
    assert calls["async"] == 2
    assert calls["sync"] == 2
    assert calls["dash-quart-sync"] == 2


async def test_no_update_is_memoized(make_app: MakeApp) -> None:
    app, calls = _app(make_app)
    for _ in range(3):
        body = callback_body(("quiet", "children"), [("in", "value", "x")])
        assert await _post(app, body) == {}
    assert calls["quiet"] == 1


async def test_pattern_matching_callbacks(make_app: MakeApp) -> None:
    app, calls = _app(make_app)
    for index, value in [(1, "x"), (2, "x"), (1, "x"), (2, "x"), (1, "y")]:
        out = await _post(app, _match_body(index, value))
        expected = {"children": f"row {index}: {value}"}
        assert out == {_stringify({"type": "out", "index": index}): expected}
    assert (calls["row 1"], calls["row 2"]) == (2, 1)
    for values in (["a", "b", "c"], ["a", "b", "c"], ["a", "b", "d"]):
        out = await _post(app, _all_body(values))
        assert out == {"total": {"children": "+".join(values)}}
    assert calls["total"] == 2
