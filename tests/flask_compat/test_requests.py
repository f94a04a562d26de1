"""dash_quart.request: Flask's synchronous body API in sync Quart views."""

from __future__ import annotations

import hashlib
import io
import threading
from typing import Any

import pytest
from dash import Dash
from quart import Quart
from quart.datastructures import FileStorage

import dash_quart
from dash_quart import request


@pytest.fixture(name="app")
def _app(dash_app: Dash) -> Quart:
    server = dash_app.server

    @server.route("/sync", methods=["GET", "POST"])
    def sync_view() -> dict[str, Any]:
        return {
            "thread": threading.current_thread().name,
            "form": request.form.to_dict(),
            "values": request.values.to_dict(),
            "files": {
                name: hashlib.sha256(f.read()).hexdigest() for name, f in request.files.items()
            },
            "json": request.get_json(silent=True),
            "data": request.get_data(as_text=True),
            "args": request.args.to_dict(),
            "method": request.method,
        }

    @server.post("/sync-json")
    def sync_json() -> dict[str, Any]:
        return {"json": request.json}

    @server.post("/async")
    async def async_view() -> dict[str, Any]:
        return {
            "form": (await request.form).to_dict(),
            "json": await request.get_json(silent=True),
            "data": (await request.get_data()).decode(),
        }

    @server.post("/run-sync")
    async def via_run_sync() -> dict[str, Any]:
        return {"json": await dash_quart.run_sync(lambda: request.get_json())}

    return server


async def test_form_and_values_in_sync_view(app: Quart) -> None:
    response = await app.test_client().post("/sync?page=2", form={"name": "Ada", "lang": "py"})
    result = await response.get_json()
    assert result["thread"].startswith("dash-quart-sync")
    assert result["form"] == {"name": "Ada", "lang": "py"}
    assert result["values"] == {"name": "Ada", "lang": "py", "page": "2"}
    assert result["data"] == "name=Ada&lang=py"


async def test_files_in_sync_view(app: Quart) -> None:
    upload = FileStorage(io.BytesIO(b"col\n1\n"), filename="data.csv", content_type="text/csv")
    response = await app.test_client().post("/sync", form={"kind": "csv"}, files={"up": upload})
    result = await response.get_json()
    assert result["files"] == {"up": hashlib.sha256(b"col\n1\n").hexdigest()}
    assert result["form"] == {"kind": "csv"}


async def test_json_in_sync_view(app: Quart) -> None:
    response = await app.test_client().post("/sync-json", json={"a": [1, 2]})
    assert await response.get_json() == {"json": {"a": [1, 2]}}


async def test_get_request_in_sync_view(app: Quart) -> None:
    result = await (await app.test_client().get("/sync?x=1")).get_json()
    assert result["values"] == {"x": "1"}
    assert result["json"] is None and result["data"] == ""


async def test_invalid_json_in_sync_view_is_400(app: Quart) -> None:
    response = await app.test_client().post(
        "/sync-json", data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


async def test_wrong_content_type_in_sync_view_is_415(app: Quart) -> None:
    response = await app.test_client().post(
        "/sync-json", data=b"a=1", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415


async def test_body_over_max_content_length_is_413(app: Quart) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = await app.test_client().post("/sync", data=b"x" * 4096)
    assert response.status_code == 413


async def test_same_names_awaitable_in_async_view(app: Quart) -> None:
    response = await app.test_client().post("/async", form={"name": "Grace"})
    assert await response.get_json() == {
        "form": {"name": "Grace"}, "json": None, "data": "name=Grace",
    }


async def test_body_available_in_run_sync(app: Quart) -> None:
    response = await app.test_client().post("/run-sync", json={"n": 3})
    assert await response.get_json() == {"json": {"n": 3}}
