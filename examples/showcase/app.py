"""dash-quart showcase: a multi-page Dash app that uses every part together.

- sign-in with dash_quart_login and an async user loader on SQLite (``auth.py``);
- a live page fed by the Broadcaster through ``EventSource`` (``live.py``);
- reports whose async computation is memoized with dash_quart_caching (``reports.py``);
- a legacy Flask blueprint under ``/legacy/`` sharing the session and the user;
- a JSON API with CORS (``api.py``) and a long job whose progress the page shows.

Run it with ``make demo`` (memory backends, SQLite, no services) or, in production,
``hypercorn -w 2 examples.showcase.app:server`` with ``REDIS_URL`` set, which moves the
cache and the broadcaster to Redis so that every worker shares them. Sign in as ``demo`` /
``demo-password``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import dash
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash_quart_login import current_user
from quart import Response

import dash_quart
from dash_quart.components import EventSource

from . import api, auth, data, jobs, legacy, live, reports

app = Dash(
    __name__,
    backend="quart",
    use_pages=True,
    pages_folder="",
    title="dash-quart showcase",
    suppress_callback_exceptions=True,
)
server = app.server
server.config.update(
    SECRET_KEY=os.environ.get("SECRET_KEY", "dev-only-showcase-secret-change-me"),
    SESSION_COOKIE_SAMESITE="Lax",
    REMEMBER_COOKIE_SAMESITE="Lax",
)

auth.login_manager.init_app(server)
server.register_blueprint(auth.blueprint)
auth.login_manager.init_flask_app(dash_quart.flask_app(server))
dash_quart.register_flask_blueprint(server, legacy.blueprint, url_prefix="/legacy")
server.register_blueprint(api.blueprint)
live.init_app(server)
reports.init_app(server)
jobs.init_app(server)
auth.login_manager.protect_dash(app)


@server.before_serving
async def _create_database() -> None:
    await data.init_db()


if os.environ.get("SHOWCASE_TEST_MODE") == "1":

    @server.after_request
    async def _worker_header(response: Response) -> Response:
        response.headers["X-Worker-Pid"] = str(os.getpid())
        return response


def _nav() -> html.Nav:
    links = [("Home", "/"), ("Live", "/live"), ("Reports", "/reports"), ("Jobs", "/jobs")]
    return html.Nav(
        [dcc.Link(label, href=href, className="nav-link") for label, href in links]
        + [
            html.A("Legacy (Flask)", href="/legacy/", className="nav-link"),
            html.Form(
                html.Button("Sign out", id="sign-out", type="submit"),
                action="/auth/logout", method="post", style={"display": "inline"},
            ),
        ],
        style={"display": "flex", "gap": "1rem", "alignItems": "center"},
    )


app.layout = html.Div(
    [html.Header([html.Strong("dash-quart showcase"), _nav()]), html.Hr(), dash.page_container],
    style={"fontFamily": "system-ui, sans-serif", "maxWidth": "60rem", "margin": "1rem auto"},
)

dash.register_page(
    "showcase.home", path="/", title="Home",
    layout=html.Main([html.H1("Welcome"), html.P(id="greeting"),
                      html.P("Every page below runs on Quart; sync code runs in a thread pool.")]),
)
dash.register_page(
    "showcase.live", path="/live", title="Live",
    layout=html.Main([
        html.H1("Live market"),
        EventSource(id="market", url="/api/live/market", events=["tick"]),
        EventSource(id="news", url="/api/live/announcements", events=["announcement"]),
        html.P(["Feed: ", html.Strong("connecting", id="feed-state"), " · price ",
                html.Strong("-", id="price")]),
        dcc.Graph(id="chart", figure={"data": [{"x": [], "y": [], "mode": "lines"}],
                                      "layout": {"height": 280, "margin": {"t": 10}}}),
        html.H2("Announcements"),
        dcc.Input(id="announcement", placeholder="Say something to everyone", maxLength=280),
        html.Button("Announce", id="announce"),
        html.Ul(id="announcements"),
    ]),
)
dash.register_page(
    "showcase.reports", path="/reports", title="Reports",
    layout=html.Main([
        html.H1("Regional report"),
        dcc.Dropdown(id="region", options=[{"label": r.upper(), "value": r}
                                           for r in reports.REGIONS], value="emea",
                     clearable=False),
        dcc.Loading(html.Div(id="report")),
    ]),
)
dash.register_page(
    "showcase.jobs", path="/jobs", title="Jobs",
    layout=html.Main([
        html.H1("Long job"),
        html.Button("Start a job", id="start-job"),
        EventSource(id="job-events", events=["progress"]),
        html.Progress(id="job-progress", value="0", max="100", style={"width": "100%"}),
        html.P(id="job-status"),
    ]),
)


@app.callback(Output("greeting", "children"), Input("greeting", "id"))
def greet(_: str) -> str:
    return f"Signed in as {current_user.name}."


@app.callback(
    Output("price", "children"), Output("chart", "extendData"),
    Input("market", "message"), prevent_initial_call=True,
)
def on_tick(message: Any) -> tuple[Any, Any]:
    if not isinstance(message, dict) or "price" not in message:
        return no_update, no_update
    point = {"x": [[message["time"]]], "y": [[message["price"]]]}
    return f"{message['price']:.2f}", [point, [0], 120]


app.clientside_callback(
    "function (state) { return ['connecting', 'open', 'closed'][state || 0]; }",
    Output("feed-state", "children"), Input("market", "readyState"),
)
app.clientside_callback(
    """
    function (message, items) {
        if (!message || message.text === undefined) { return window.dash_clientside.no_update; }
        var entry = {type: 'Li', namespace: 'dash_html_components',
                     props: {children: message.by + ': ' + message.text}};
        return [entry].concat(items || []).slice(0, 20);
    }
    """,
    Output("announcements", "children"),
    Input("news", "message"), State("announcements", "children"),
    prevent_initial_call=True,
)


@app.callback(
    Output("announcement", "value"), Input("announce", "n_clicks"),
    State("announcement", "value"), prevent_initial_call=True,
)
async def announce(_: int | None, text: str | None) -> str:
    if text:
        await live.broadcaster.publish(
            "announcements", {"text": text[:280], "by": current_user.name, "pid": os.getpid()},
            event="announcement",
        )
    return ""


@app.callback(Output("report", "children"), Input("region", "value"))
async def show_report(region: str) -> Any:
    started = time.perf_counter()
    result = await reports.region_report(region)
    elapsed = (time.perf_counter() - started) * 1000
    header = html.Tr([html.Th("Month"), html.Th("Revenue")])
    rows = [html.Tr([html.Td(r["month"]), html.Td(f"{r['revenue']:,}")]) for r in result["rows"]]
    return [
        html.P(f"Total {result['total']:,} · computed by worker {result['computed_by']} · "
               f"served in {elapsed:.0f} ms", id="report-meta"),
        html.Table([header, *rows]),
    ]


@app.callback(
    Output("job-events", "url"), Output("job-status", "children"),
    Input("start-job", "n_clicks"), prevent_initial_call=True,
)
async def start(_: int | None) -> tuple[str, str]:
    job = await jobs.start_job()
    return job["events"], f"Job {job['id']} queued"


app.clientside_callback(
    """
    function (message) {
        if (!message || message.progress === undefined) {
            return [window.dash_clientside.no_update, window.dash_clientside.no_update];
        }
        return [String(message.progress), message.message + ' (' + message.progress + '%)'];
    }
    """,
    Output("job-progress", "value"), Output("job-status", "children", allow_duplicate=True),
    Input("job-events", "message"), prevent_initial_call=True,
)


if __name__ == "__main__":
    app.run(debug=True, port=8050)
