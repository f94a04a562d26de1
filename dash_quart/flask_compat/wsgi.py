"""Run a WSGI app from a Quart view: environ from the ASGI scope, response back to Quart."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextvars import Context
from typing import Any

from quart import Response
from werkzeug.datastructures import Headers

from ..concurrency import SyncPool

#: Set by the bridged Flask app on the ``flask.Response`` it returns, so that a complete
#: (not streamed) body can be read in the same thread hop as the view.
RESPONSE_KEY = "dash_quart.response"

logger = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _latin1(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


def build_environ(scope: dict[str, Any], body: bytes) -> dict[str, Any]:
    """A PEP 3333 environ for an ASGI HTTP ``scope`` whose body has been read already."""
    root_path: str = scope.get("root_path", "")
    path: str = scope["path"]
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": _latin1(root_path),
        "PATH_INFO": _latin1(path),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "80",
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        # The whole body is in wsgi.input, even if it came chunked (no Content-Length).
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = str(client[0])
        environ["REMOTE_PORT"] = str(client[1])
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name == "content-length":
            continue
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
            continue
        key = "HTTP_" + name.upper().replace("-", "_")
        if key in environ:
            separator = "; " if key == "HTTP_COOKIE" else ","
            value = f"{environ[key]}{separator}{value}"
        environ[key] = value
    return environ


class WSGIResult:
    """What a WSGI call produced: status, headers and either a body or an iterator."""

    def __init__(
        self, status: str, headers: list[tuple[str, str]], body: bytes | None,
        chunks: Iterator[bytes] | None, closer: Any,
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.chunks = chunks
        self.closer = closer


def call_wsgi(app: WSGIApp, environ: dict[str, Any]) -> WSGIResult:
    """Call ``app`` (in a worker thread) and read its body unless it is streamed."""
    started: list[Any] = []
    written: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, headers]
        return written.append

    app_iter = app(environ, start_response)
    response = environ.get(RESPONSE_KEY)
    if response is not None and not response.is_streamed:
        try:
            body = b"".join([*written, *app_iter])
        finally:
            _close(app_iter)
        return WSGIResult(started[0], started[1], body, None, None)
    chunks = iter(app_iter)
    first = next(chunks, None)
    if not started:
        _close(app_iter)
        raise RuntimeError("The WSGI application did not call start_response.")
    prefix = [*written] if first is None else [*written, first]
    return WSGIResult(started[0], started[1], None, _chain(prefix, chunks), app_iter)


def _chain(prefix: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from prefix
    yield from rest


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


def _close(app_iter: Any) -> None:
    close = getattr(app_iter, "close", None)
    if close is not None:
        close()


def _close_streamed(app_iter: Any) -> None:
    try:
        _close(app_iter)
    except Exception:  # nobody awaits this call: say what went wrong
        logger.exception("Closing a streamed Flask response failed")


async def _stream(
    pool: SyncPool, context: Context, chunks: Iterator[bytes], closer: Any
) -> AsyncIterator[bytes]:
    # Every step runs in the context the WSGI call ran in, as it would in a WSGI server's
    # thread: stream_with_context() keeps the Flask request context pushed there.
    try:
        while True:
            chunk = await pool.call(context.run, _next_chunk, chunks)
            if chunk is None:
                return
            yield chunk
    finally:
        pool.submit(context.run, _close_streamed, closer)


def to_quart_response(
    result: WSGIResult, pool: SyncPool, context: Context, method: str
) -> Response:
    """Turn a WSGI result into a Quart response; streamed bodies keep streaming.

    ``context`` must be the one the WSGI call ran in.
    """
    status = int(result.status.split(" ", 1)[0])
    if result.body is not None:
        response = Response(result.body, status=status, headers=Headers(result.headers))
        # Keep Flask's Content-Length: absent on 204/304, the full length on HEAD.
        length = [value for name, value in result.headers if name.lower() == "content-length"]
        if length:
            response.headers["Content-Length"] = length[0]
        else:
            del response.headers["Content-Length"]
        return response
    assert result.chunks is not None
    response = Response(
        _stream(pool, context, result.chunks, result.closer),
        status=status,
        headers=Headers(result.headers),
    )
    response.timeout = None
    return response
