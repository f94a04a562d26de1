"""Quart responses in a form that can be cached, and back."""

from __future__ import annotations

from typing import Any

from quart import Response, current_app
from quart.wrappers.response import DataBody
from werkzeug.datastructures import Headers

from .keys import Timeout, normalize_timeout


class CachedView:
    """The body, status and headers of a response, which is what a cached view stores."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, body: bytes, status: int, headers: list[tuple[str, str]]) -> None:
        self.body = body
        self.status = status
        self.headers = headers

    def __getstate__(self) -> tuple[bytes, int, list[tuple[str, str]]]:
        return self.body, self.status, self.headers

    def __setstate__(self, state: tuple[bytes, int, list[tuple[str, str]]]) -> None:
        self.body, self.status, self.headers = state

    def rebuild(self) -> Response:
        """A new response of the app's response class, equal to the one that was cached."""
        response: Response = current_app.response_class(
            self.body, status=self.status, headers=Headers(self.headers)
        )
        return response


class CachedResponse(Response):
    """A response a :meth:`~dash_quart_caching.Cache.cached` view returns to set its own TTL::

        return CachedResponse(await make_response(body), timeout=60)

    Quart responses already use ``timeout`` for sending, so the TTL is kept in
    ``cache_timeout`` (Flask-Caching's ``CachedResponse`` calls it ``timeout``).

    .. versionadded:: 0.1
    """

    cache_timeout: int | None = None

    def __init__(self, response: Response, timeout: Timeout | None) -> None:
        self.__dict__ = response.__dict__
        self.cache_timeout = normalize_timeout(timeout)


async def freeze(rv: Any) -> tuple[bool, Any]:
    """``(cacheable, stored form)`` of what a cached view returned.

    Responses become :class:`CachedView`; streamed and file responses are not cacheable.
    Anything else (a string, a dict, a tuple of those) is stored as it is, as upstream does.
    """
    if isinstance(rv, tuple) and rv and isinstance(rv[0], Response):
        rv = await current_app.make_response(rv)
    if isinstance(rv, Response):
        if not isinstance(rv.response, DataBody):
            return False, None
        body = await rv.get_data(as_text=False)
        return True, CachedView(body, rv.status_code, list(rv.headers.items()))
    return True, rv


def thaw(value: Any) -> Any:
    """The value a hit returns: a fresh response for a :class:`CachedView`."""
    if isinstance(value, CachedView):
        return value.rebuild()
    return value
