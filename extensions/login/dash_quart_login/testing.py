"""A test client logged in as a given user, like Flask-Login's ``FlaskLoginClient``."""

from __future__ import annotations

from typing import Any

from quart import Quart
from quart.testing import QuartClient


class LoginTestClient(QuartClient):
    """A Quart test client whose session starts logged in as ``user``::

        app.test_client_class = LoginTestClient
        client = app.test_client(user=user)          # fresh login
        client = app.test_client(user=user, fresh_login=False)

    .. versionadded:: 0.1
    """

    def __init__(
        self, app: Quart, *args: Any, user: Any = None, fresh_login: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(app, *args, **kwargs)
        self._pending_user = user
        self._fresh_login = fresh_login

    async def _log_in(self) -> None:
        user, self._pending_user = self._pending_user, None
        manager = self.app.login_manager  # type: ignore[attr-defined]
        # The session identifier of the requests this client sends (see session protection):
        # Quart's test client sends "User-Agent: Quart" and, without a client address,
        # Quart's ASGI layer reports "<local>".
        headers = {"User-Agent": "Quart", "Remote-Addr": "<local>"}
        async with self.app.test_request_context("/", headers=headers):
            identifier = manager._session_identifier_generator()
        async with self.session_transaction() as session:
            session["_user_id"] = getattr(user, manager.id_attribute)()
            session["_fresh"] = self._fresh_login
            session["_id"] = identifier

    async def open(self, *args: Any, **kwargs: Any) -> Any:
        if self._pending_user is not None:
            await self._log_in()
        return await super().open(*args, **kwargs)

    def websocket(self, *args: Any, **kwargs: Any) -> Any:
        if self._pending_user is not None:
            raise RuntimeError("Make one HTTP request before a websocket to apply the login.")
        return super().websocket(*args, **kwargs)


def logged_in_client(app: Quart, user: Any, *, fresh_login: bool = True) -> LoginTestClient:
    """A :class:`LoginTestClient` for ``app``, logged in as ``user``."""
    return LoginTestClient(app, user=user, fresh_login=fresh_login)
