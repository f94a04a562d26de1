"""An async route added with Dash's hooks, served by every Dash app that imports it.

    python -m examples.hook_routes.app    # then GET /api/uptime
"""

from __future__ import annotations

import asyncio
import time

from dash import Dash, hooks, html

STARTED = time.monotonic()


@hooks.route(name="api/uptime")
async def uptime() -> dict[str, float]:
    await asyncio.sleep(0)
    return {"uptime_seconds": round(time.monotonic() - STARTED, 3)}


app = Dash(__name__, backend="quart")
server = app.server
app.layout = html.P("GET /api/uptime for the server's uptime.")

if __name__ == "__main__":
    app.run(debug=True)
