"""The bridge benchmark's endpoints as a native Quart blueprint.

Each view does what its namesake in ``bridge_blueprint`` does, with Quart's async API.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, render_template, request

from .bridge_blueprint import ROWS, TEMPLATE, TITLE, summarise

bp = Blueprint("bridge_bench", __name__, template_folder="templates")


@bp.post("/json")
async def json_echo() -> dict[str, Any]:
    payload: dict[str, Any] = await request.get_json()
    return payload


@bp.post("/form")
async def form_post() -> dict[str, Any]:
    return summarise(await request.form)


@bp.get("/table")
async def template() -> str:
    return await render_template(TEMPLATE, title=TITLE, rows=ROWS)
