"""An unchanged Flask blueprint, served on the Quart server, sharing session and user."""

from __future__ import annotations

import flask
import flask_login

blueprint = flask.Blueprint("legacy", __name__)

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Legacy Flask page</title></head><body>
<h1>Legacy Flask page</h1>
<p id="legacy-user">Signed in as {{ current_user.name }}</p>
<p id="legacy-visits">Visits in this session: {{ visits }}</p>
<p><a href="{{ url_for('legacy.index') }}">reload</a> · <a href="/">back to the dashboard</a></p>
</body></html>"""


@blueprint.route("/")
@flask_login.login_required
def index() -> str:
    flask.session["legacy_visits"] = flask.session.get("legacy_visits", 0) + 1
    return flask.render_template_string(PAGE, visits=flask.session["legacy_visits"])
