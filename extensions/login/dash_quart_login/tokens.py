"""Signed API tokens for ``request_loader``, made with itsdangerous.

::

    @login_manager.request_loader
    async def load_from_token(request):
        user_id = load_token(bearer_token(request) or "", max_age=3600)
        return await User.get(user_id) if user_id else None

For a route behind HTTP basic auth, quart-auth's ``basic_auth_required`` is re-exported.
"""

from __future__ import annotations

from hashlib import sha512
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from quart import current_app
from quart_auth import basic_auth_required as basic_auth_required

DEFAULT_SALT = "dash-quart-login token"


def token_serializer(salt: str = DEFAULT_SALT) -> URLSafeTimedSerializer:
    """A timed serializer keyed with the app's ``SECRET_KEY`` (SHA-512 signatures)."""
    secret = current_app.config.get("SECRET_KEY")
    if not secret:
        raise RuntimeError("Set SECRET_KEY on the app: API tokens are signed with it.")
    return URLSafeTimedSerializer(secret, salt=salt, signer_kwargs={"digest_method": sha512})


def generate_token(user_id: str, *, salt: str = DEFAULT_SALT) -> str:
    """A signed, timestamped token that carries ``user_id``."""
    return str(token_serializer(salt).dumps(str(user_id)))


def load_token(token: str, *, max_age: int | None = None, salt: str = DEFAULT_SALT) -> str | None:
    """The user id in ``token``, or None if it is forged, tampered or older than ``max_age``.

    The signature is checked in constant time.
    """
    try:
        value: Any = token_serializer(salt).loads(token, max_age=max_age)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def bearer_token(request: Any) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    auth = request.authorization
    if auth is None or auth.type != "bearer":
        return None
    token = auth.token
    return token if isinstance(token, str) and token else None
