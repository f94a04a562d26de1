"""The bridge benchmark's three endpoints, as an unchanged ``flask.Blueprint``.

``bridge_native`` serves the same endpoints as a Quart blueprint. The request data and the
answers' shape live here too, so that both blueprints and ``bench.flask_bridge`` agree on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

PREFIX = "/bp"
TEMPLATE = "bridge_table.html"
TITLE = "Bridge benchmark"

#: The JSON body ``json_echo`` is sent and answers back: about 1 KB.
PAYLOAD: dict[str, Any] = {
    "id": "echo-7f3a",
    "items": [
        {"n": n, "name": f"item-{n:02d}", "price": round(n * 1.25, 2), "tags": ["a", "b"]}
        for n in range(18)
    ],
}

#: The urlencoded form ``form_post`` is sent: ten fields.
FORM: dict[str, str] = {
    "name": "Ada Lovelace",
    "email": "ada@example.org",
    "company": "Analytical Engines",
    "role": "engineer",
    "city": "London",
    "country": "GB",
    "postcode": "W1 1AA",
    "phone": "+44 20 7946 0000",
    "age": "36",
    "comment": "Notes on the engine & its programs",
}

#: The rows ``template`` renders into a table.
ROWS: list[dict[str, Any]] = [
    {"id": n, "name": f"row-{n:02d}", "value": n * n, "share": f"{n / 20:.0%}"} for n in range(20)
]


def summarise(form: Mapping[str, str]) -> dict[str, Any]:
    """The small JSON answer to ``form_post``: how many fields came, and one of them."""
    return {"fields": len(form), "name": form.get("name", "")}


bp = Blueprint("bridge_bench", __name__, template_folder="templates")


@bp.post("/json")
def json_echo() -> Response:
    return jsonify(request.get_json())


@bp.post("/form")
def form_post() -> Response:
    return jsonify(summarise(request.form))


@bp.get("/table")
def template() -> str:
    return render_template(TEMPLATE, title=TITLE, rows=ROWS)
