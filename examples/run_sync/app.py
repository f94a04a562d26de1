"""Await blocking code from an async callback with dash_quart.run_sync.

    python -m examples.run_sync.app
"""

from __future__ import annotations

import sqlite3

from dash import Dash, Input, Output, dcc, html

import dash_quart

app = Dash(__name__, backend="quart")
server = app.server

app.layout = html.Div(
    [dcc.Input(id="n", type="number", value=5), html.P(id="squares")]
)


def squares_from_sqlite(n: int) -> list[int]:
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE numbers (value INTEGER)")
        db.executemany("INSERT INTO numbers VALUES (?)", [(i,) for i in range(n)])
        rows = db.execute("SELECT value * value FROM numbers ORDER BY value").fetchall()
    return [row[0] for row in rows]


@app.callback(Output("squares", "children"), Input("n", "value"))
async def show_squares(n: int | None) -> str:
    squares = await dash_quart.run_sync(squares_from_sqlite, max(0, min(int(n or 0), 100)))
    return ", ".join(map(str, squares))


if __name__ == "__main__":
    app.run(debug=True)
