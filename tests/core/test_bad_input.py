from __future__ import annotations

import json
from typing import Any

import pytest
from dash import Dash, Input, Output, State, html

from dash_quart.testing import callback_body
from tests.conftest import MakeApp

GOOD = callback_body(("out", "children"), [("btn", "n_clicks", 1)], [("box", "value", "x")])
RAW = json.dumps(GOOD).encode()


def _app(make_app: MakeApp, *, debug: bool = False) -> Dash:
    app = make_app()
    app.layout = html.Div([html.Button(id="btn"), html.Div(id="out"), html.Div(id="box")])

    @app.callback(Output("out", "children"), Input("btn", "n_clicks"), State("box", "value"))
    def echo(clicks: int | None, value: Any) -> str:
        return f"{clicks}:{value}"

    if debug:
        app.enable_dev_tools(debug=True, dev_tools_hot_reload=False)
    return app


def _with(**changes: Any) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


CORPUS: dict[str, bytes] = {
    "empty": b"",
    "not json": b"hello",
    "invalid utf-8": b"\xff\xfe{",
    **{f"truncated at {n}": RAW[:n] for n in (1, 10, len(RAW) // 2, len(RAW) - 1)},
    "null": b"null",
    "list": b"[]",
    "string": b'"output"',
    "number": b"42",
    "empty object": b"{}",
    "output is a number": _with(output=5),
    "output is null": _with(output=None),
    "inputs is an object": _with(inputs={"id": "btn"}),
    "inputs of strings": _with(inputs=["btn.n_clicks"]),
    "input without property": _with(inputs=[{"id": "btn", "value": 1}]),
    "input id is a number": _with(inputs=[{"id": 3, "property": "n_clicks"}]),
    "state is a string": _with(state="box"),
    "outputs is a string": _with(outputs="out.children"),
    "outputs of numbers": _with(outputs=[1, 2]),
    "changedPropIds is a string": _with(changedPropIds="btn.n_clicks"),
    "changedPropIds of numbers": _with(changedPropIds=[1]),
    "too few inputs": _with(inputs=[]),
    "outputs of another callback": _with(outputs={"id": "box", "property": "children"}),
    "outputs with a wrong property": _with(outputs={"id": "out", "property": "title"}),
    "two outputs for one": _with(outputs=[{"id": "out", "property": "children"}] * 2),
    "deeply nested list": b"[" * 100_000 + b"]" * 100_000,
    "deeply nested object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "deeply nested input value": json.dumps(GOOD)
    .replace('"value": 1', '"value": ' + "[" * 50_000 + "]" * 50_000)
    .encode(),
}


async def test_well_formed_request_works(make_app: MakeApp) -> None:
    response = await _app(make_app).server.test_client().post("/_dash-update-component", data=RAW)
    assert response.status_code == 200
    assert (await response.get_json())["response"]["out"]["children"] == "1:x"


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
async def test_malformed_json_is_400_with_json_body(make_app: MakeApp, debug: bool) -> None:
    client = _app(make_app, debug=debug).server.test_client()
    response = await client.post("/_dash-update-component", data=b'{"output": ')
    assert response.status_code == 400
    assert response.content_type == "application/json"
    error = (await response.get_json())["error"]
    assert error["status"] == 400
    assert "not valid JSON" in error["message"]


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
async def test_unknown_output_is_400(make_app: MakeApp, debug: bool) -> None:
    client = _app(make_app, debug=debug).server.test_client()
    body = callback_body(("nope", "children"), [("btn", "n_clicks", 1)])
    response = await client.post("/_dash-update-component", json=body)
    assert response.status_code == 400
    assert "nope.children" in (await response.get_json())["error"]["message"]


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
async def test_body_over_max_content_length_is_413(make_app: MakeApp, debug: bool) -> None:
    app = _app(make_app, debug=debug)
    app.server.config["MAX_CONTENT_LENGTH"] = 1024
    big = _with(state=[{"id": "box", "property": "value", "value": "x" * 4096}])
    response = await app.server.test_client().post("/_dash-update-component", data=big)
    assert response.status_code == 413
    assert response.content_type == "application/json"
    small = await app.server.test_client().post("/_dash-update-component", data=RAW)
    assert small.status_code == 200


@pytest.mark.parametrize("name", list(CORPUS))
async def test_corpus_never_500(make_app: MakeApp, name: str) -> None:
    client = _app(make_app, debug=True).server.test_client()
    response = await client.post(
        "/_dash-update-component", data=CORPUS[name], headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, await response.get_data()
    assert "message" in (await response.get_json())["error"]
    after = await client.post("/_dash-update-component", data=RAW)
    assert after.status_code == 200
