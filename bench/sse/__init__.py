"""Server-sent events: dash_quart's EventStream and Broadcaster against sse-starlette."""
