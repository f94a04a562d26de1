"""Flask-style ``request`` for Quart routes: synchronous body access in sync views.

In a sync (``def``) view, which dash_quart runs in the server's thread pool, the request body
is read on the event loop *before* the view starts (within ``MAX_CONTENT_LENGTH``), so that
``request.json``, ``.form``, ``.files``, ``.data``, ``.values``, ``.get_json()`` and
``.get_data()`` answer synchronously, as in Flask. In an ``async def`` view the same names
are Quart's own and are awaited::

    from dash_quart import request

    @server.post("/sync")
    def sync_view():
        return {"name": request.form["name"]}

    @server.post("/async")
    async def async_view():
        return {"name": (await request.form)["name"]}
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any

import quart
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


class PreloadedBody:
    """The body of one request, read ahead of a sync view."""

    def __init__(self, data: bytes, form: MultiDict[str, Any], files: MultiDict[str, Any]) -> None:
        self.data = data
        self.form = form
        self.files = files


_BODY: ContextVar[tuple[int, PreloadedBody] | None] = ContextVar("dash_quart_body", default=None)


async def preload_body() -> None:
    """Read the current request's body so that sync code can use it; a no-op outside one."""
    if not quart.has_request_context():
        return
    req = quart.request._get_current_object()  # type: ignore[attr-defined]
    current = _BODY.get()
    if current is not None and current[0] == id(req):
        return
    data = await req.get_data(cache=True, as_text=False)
    if req.mimetype in _FORM_TYPES:
        form, files = await req.form, await req.files
    else:
        form, files = MultiDict(), MultiDict()
    _BODY.set((id(req), PreloadedBody(data, form, files)))


def _in_async_code() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class FlaskStyleRequest:
    """A proxy to Quart's ``request`` with Flask's synchronous body API in sync code.

    .. versionadded:: 0.1
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(quart.request, name)

    def _body(self) -> PreloadedBody:
        current = _BODY.get()
        req = quart.request._get_current_object()  # type: ignore[attr-defined]
        if current is None or current[0] != id(req):
            raise RuntimeError(
                "The request body was not read ahead of this sync code. Use dash_quart.request "
                "in a sync view or in dash_quart.run_sync(), or await it in async code."
            )
        return current[1]

    @property
    def data(self) -> Any:
        if _in_async_code():
            return quart.request.data
        body = self._body()
        return b"" if quart.request.mimetype in _FORM_TYPES else body.data

    @property
    def form(self) -> Any:
        return quart.request.form if _in_async_code() else self._body().form

    @property
    def files(self) -> Any:
        return quart.request.files if _in_async_code() else self._body().files

    @property
    def values(self) -> Any:
        if _in_async_code():
            return quart.request.values
        if quart.request.method == "GET":
            return CombinedMultiDict([quart.request.args])
        return CombinedMultiDict([quart.request.args, self._body().form])

    @property
    def json(self) -> Any:
        return quart.request.json if _in_async_code() else self.get_json()

    def get_data(self, cache: bool = True, as_text: bool = False, **kwargs: Any) -> Any:
        if _in_async_code():
            return quart.request.get_data(cache=cache, as_text=as_text, **kwargs)
        data = self._body().data
        return data.decode() if as_text else data

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if _in_async_code():
            return quart.request.get_json(force=force, silent=silent, cache=cache)
        if not (force or quart.request.is_json):
            if silent:
                return None
            raise UnsupportedMediaType(
                "Did not attempt to load JSON data because the request Content-Type was not "
                "'application/json'."
            )
        try:
            return quart.current_app.json.loads(self._body().data)
        except ValueError as error:
            if silent:
                return None
            raise BadRequest(f"Failed to decode JSON object: {error}") from None


#: Quart's ``request`` with Flask's synchronous body API in sync views.
request = FlaskStyleRequest()
