"""A JSON API with CORS (quart-cors), for other front ends."""

from __future__ import annotations

import os
from typing import Any

from dash_quart_login import current_user, login_required
from quart import Blueprint
from quart_cors import cors

blueprint = cors(
    Blueprint("api", __name__, url_prefix="/api"),
    allow_origin=os.environ.get("SHOWCASE_CORS_ORIGINS", "http://localhost:3000").split(","),
    allow_credentials=True,
)


@blueprint.get("/status")
async def status() -> dict[str, Any]:
    from .app import app

    return {"status": "ok", "backend": type(app.backend).__name__, "pid": os.getpid()}


@blueprint.get("/me")
@login_required
async def me() -> dict[str, Any]:
    return {"id": current_user.id, "username": current_user.username,
            "name": current_user.name, "pid": os.getpid()}
