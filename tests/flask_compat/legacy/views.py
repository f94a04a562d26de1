from __future__ import annotations

import asyncio
import hashlib
import io
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    get_flashed_messages,
    jsonify,
    make_response,
    redirect,
    render_template,
    render_template_string,
    request,
    send_file,
    send_from_directory,
    session,
    stream_with_context,
    url_for,
)
from flask.views import MethodView

bp = Blueprint(
    "legacy", __name__, template_folder="templates", static_folder="static",
    static_url_path="/static",
)
admin = Blueprint("admin", __name__)
teardown_log: list[str] = []


class TeapotError(Exception):
    pass


@bp.before_request
def load_user() -> None:
    g.user = request.headers.get("X-User", "anonymous")


@bp.after_request
def tag_response(response: Response) -> Response:
    response.headers["X-Legacy"] = "1"
    return response


@bp.teardown_request
def record_teardown(error: BaseException | None) -> None:
    teardown_log.append(f"{request.path} {type(error).__name__ if error else 'ok'}")


@bp.url_value_preprocessor
def pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values is not None and "lang" in values:
        g.lang = values.pop("lang")


@bp.url_defaults
def add_lang(endpoint: str, values: dict[str, Any]) -> None:
    if "lang" in values or not hasattr(g, "lang"):
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, "lang"):
        values["lang"] = g.lang


@bp.context_processor
def inject_site() -> dict[str, str]:
    return {"site_name": current_app.config.get("SITE_NAME", "unnamed site")}


@bp.errorhandler(TeapotError)
def handle_teapot(error: TeapotError) -> tuple[Response, int]:
    return jsonify(error="teapot", detail=str(error)), 418


@bp.errorhandler(404)
def handle_not_found(error: Exception) -> tuple[str, int]:
    return "legacy: not found", 404


@bp.route("/echo", methods=["GET", "POST", "PUT", "DELETE"])
def echo() -> Response:
    return jsonify(
        method=request.method,
        path=request.path,
        full_path=request.full_path,
        url=request.url,
        args=request.args.to_dict(flat=False),
        form=request.form.to_dict(flat=False),
        values=request.values.to_dict(flat=False),
        json=request.get_json(silent=True),
        data=request.get_data(as_text=True),
        headers={k: v for k, v in request.headers if k.lower().startswith("x-")},
        cookies=request.cookies.to_dict(),
        remote_addr=request.remote_addr,
        user=g.user,
    )


@bp.post("/json")
def json_body() -> Response:
    payload = request.get_json()
    return jsonify(received=payload, is_json=request.is_json, json=request.json)


@bp.post("/upload")
def upload() -> Response:
    files = {
        name: {
            "filename": storage.filename,
            "mimetype": storage.mimetype,
            "sha256": hashlib.sha256(storage.read()).hexdigest(),
        }
        for name, storage in request.files.items()
    }
    return jsonify(files=files, form=request.form.to_dict())


@bp.route("/context")
def context() -> Response:
    return jsonify(
        user=g.user,
        setting=current_app.config.get("LEGACY_SETTING"),
        app_name=current_app.name,
    )


@bp.route("/session/<key>/<value>", methods=["POST"])
def session_set(key: str, value: str) -> Response:
    session[key] = value
    return jsonify(stored={key: value})


@bp.route("/session")
def session_get() -> Response:
    return jsonify(session=dict(session))


@bp.route("/urls")
def urls() -> Response:
    return jsonify(
        echo=url_for("legacy.echo", q="1"),
        external=url_for("legacy.echo", _external=True),
        static=url_for("legacy.static", filename="app.css"),
        admin=url_for("legacy.admin.dashboard"),
        host_app=url_for("health"),
        host_app_external=url_for("health", _external=True),
    )


@bp.route("/abort/<int:code>")
def do_abort(code: int) -> str:
    abort(code)


@bp.route("/missing-thing")
def missing_thing() -> str:
    abort(404)


@bp.route("/teapot")
def teapot() -> str:
    raise TeapotError("short and stout")


@bp.route("/boom")
def boom() -> str:
    raise ValueError("boom")


@bp.route("/go")
def go() -> Response:
    return redirect(url_for("legacy.context"))


@bp.route("/flash")
def do_flash() -> Response:
    flash("saved", "info")
    flash("careful", "warning")
    return redirect(url_for("legacy.flashes"))


@bp.route("/flashes")
def flashes() -> Response:
    return jsonify(messages=get_flashed_messages(with_categories=True))


@bp.route("/made")
def made() -> Response:
    response = make_response("created body", 201)
    response.headers["X-Made"] = "yes"
    response.set_cookie("made", "1", httponly=True)
    return response


@bp.route("/tuple")
def as_tuple() -> tuple[str, int, dict[str, str]]:
    return "tuple body", 202, {"X-Tuple": "yes"}


@bp.route("/page/<name>")
def page(name: str) -> str:
    return render_template("legacy/page.html", title="Legacy page", name=name)


@bp.route("/inline")
def inline() -> str:
    return render_template_string("{{ word|upper }} {{ site_name }}", word=request.args["word"])


@bp.route("/download")
def download() -> Response:
    return send_file(
        io.BytesIO(b"report,1\nrow,2\n"), mimetype="text/csv", as_attachment=True,
        download_name="report.csv",
    )


@bp.route("/asset/<path:name>")
def asset(name: str) -> Response:
    return send_from_directory(bp.static_folder or "", name)


@bp.route("/stream")
def stream() -> Response:
    count = int(request.args.get("n", "3"))

    @stream_with_context
    def generate() -> Any:
        for i in range(count):
            yield f"{request.args.get('word', 'chunk')} {i}\n"

    return Response(generate(), mimetype="text/plain")


@bp.route("/lang/<lang>/hello")
def hello_lang() -> Response:
    return jsonify(lang=g.lang, self_url=url_for("legacy.hello_lang"))


@bp.route("/async")
async def async_view() -> Response:
    await asyncio.sleep(0)
    return jsonify(user=g.user, awaited=True)


class ItemAPI(MethodView):
    init_every_request = False
    items = {1: "first", 2: "second"}

    def get(self, item_id: int | None = None) -> Response:
        if item_id is None:
            return jsonify(items=self.items)
        if item_id not in self.items:
            abort(404)
        return jsonify(item=self.items[item_id])

    def post(self) -> tuple[Response, int]:
        return jsonify(id=max(self.items) + 1, name=request.form["name"]), 201

    def delete(self, item_id: int) -> tuple[str, int]:
        if item_id not in self.items:
            abort(404)
        return "", 204


item_view = ItemAPI.as_view("items")
bp.add_url_rule("/items", view_func=item_view, methods=["GET", "POST"])
bp.add_url_rule("/items/<int:item_id>", view_func=item_view, methods=["GET", "DELETE"])


@admin.route("/dashboard")
def dashboard() -> Response:
    return jsonify(area="admin", user=g.user)


bp.register_blueprint(admin, url_prefix="/admin")
