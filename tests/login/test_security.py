"""Every hostile input gets a clean answer, never a 500 and never a foreign redirect."""

from __future__ import annotations

import hmac
from typing import Any

import pytest
from dash_quart_login import decode_cookie, encode_cookie, is_safe_url
from dash_quart_login import utils as login_utils
from quart import Quart

from tests.login.conftest import build_app

HOSTILE_NEXT = [
    "//evil.com",
    "///evil.com",
    "https://evil.com",
    "http://evil.com/path",
    "/\\evil.com",
    "\\\\evil.com",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "%2F%2Fevil.com",
    "%2f%2fevil.com",
    "/%2F%2Fevil.com",
    "/%5Cevil.com",
    "%252F%252Fevil.com",
    "https%3A%2F%2Fevil.com",
    "/\tevil.com",
    "/\t/evil.com",
    "\r\n//evil.com",
    "data:text/html,<script>alert(1)</script>",
    "evil.com",
    "",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
async def test_hostile_next_is_refused(app: Quart, target: str) -> None:
    assert not is_safe_url(target)
    response = await app.test_client().post("/login/ada", query_string={"next": target})
    assert response.status_code == 200
    assert (await response.get_json())["next"] == "/home"


@pytest.mark.parametrize("target", ["/dashboard", "/reports?id=3&tab=a", "/a/b/c#top"])
async def test_local_next_is_kept(app: Quart, target: str) -> None:
    response = await app.test_client().post("/login/ada", query_string={"next": target})
    assert (await response.get_json())["next"] == target


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.mark.parametrize(
    "tamper",
    [
        # Flip the top bit of the last base64 character: its low bits may be padding, so
        # a change there alone can decode to the same signature.
        lambda v: v[:-1] + _B64[_B64.index(v[-1]) ^ 32],
        lambda v: "x" + v,
        lambda v: v.split(".")[0],
        lambda v: "garbage",
        lambda v: "",
    ],
    ids=["last-char", "prefix", "no-signature", "garbage", "empty"],
)
async def test_tampered_session_cookie_is_anonymous(app: Quart, tamper: Any) -> None:
    client = app.test_client()
    response = await client.post("/login/ada")
    session_value = next(
        h.split(";")[0].split("=", 1)[1]
        for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")
    )
    other = app.test_client()
    other.set_cookie("localhost", "session", tamper(session_value))
    reply = await other.get("/whoami")
    assert reply.status_code == 200
    assert await reply.get_json() == {"id": None, "anonymous": True}


@pytest.mark.parametrize(
    "cookie", ["ada|" + "0" * 128, "ada", "ada|", "|", "admin|deadbeef", "ada|\x00"],
)
async def test_tampered_remember_cookie_is_anonymous(app: Quart, cookie: str) -> None:
    client = app.test_client()
    client.set_cookie("localhost", "remember_token", cookie)
    reply = await client.get("/whoami")
    assert reply.status_code == 200
    assert await reply.get_json() == {"id": None, "anonymous": True}


async def test_remember_cookie_for_another_user_id_is_refused(app: Quart) -> None:
    async with app.app_context():
        valid = encode_cookie("ada")
    forged = "grace|" + valid.split("|", 1)[1]
    client = app.test_client()
    client.set_cookie("localhost", "remember_token", forged)
    assert await (await client.get("/whoami")).get_json() == {"id": None, "anonymous": True}


async def test_strong_protection_drops_the_session_when_the_client_changes() -> None:
    app, manager = build_app()
    manager.session_protection = "strong"
    client = app.test_client()
    await client.post("/login/ada?remember=1")
    assert await (await client.get("/whoami")).get_json() == {"id": "ada", "anonymous": False}
    moved = await client.get("/whoami", headers={"User-Agent": "other browser"})
    assert await moved.get_json() == {"id": None, "anonymous": True}
    cleared = [h for h in moved.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]
    assert cleared, "strong protection must clear the remember cookie too"
    assert await (await client.get("/whoami")).get_json() == {"id": None, "anonymous": True}


async def test_basic_protection_marks_the_session_stale() -> None:
    app, _ = build_app()
    client = app.test_client()
    await client.post("/login/ada")
    assert (await client.get("/fresh")).status_code == 200
    moved = await client.get("/fresh", headers={"User-Agent": "other browser"})
    assert moved.status_code == 401
    assert await (await client.get("/whoami")).get_json() == {"id": "ada", "anonymous": False}


async def test_cookie_digests_are_compared_in_constant_time(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(login_utils.hmac, "compare_digest", spy)
    async with app.app_context():
        assert decode_cookie(encode_cookie("ada")) == "ada"
        assert decode_cookie("ada|bad") is None
    assert len(calls) == 2


async def test_tokens_use_itsdangerous_constant_time_checks(app: Quart) -> None:
    from dash_quart_login.tokens import generate_token, load_token
    from itsdangerous import signer

    assert signer.hmac.compare_digest is hmac.compare_digest
    async with app.app_context():
        token = generate_token("ada")
        assert load_token(token) == "ada"
        assert load_token(token + "x") is None
        assert load_token("not.a.token") is None


async def test_cookie_flag_defaults() -> None:
    from dash_quart_login import DEFAULTS

    assert DEFAULTS["REMEMBER_COOKIE_HTTPONLY"] is True
    assert DEFAULTS["REMEMBER_COOKIE_SECURE"] is False
    assert DEFAULTS["REMEMBER_COOKIE_SAMESITE"] is None
    assert DEFAULTS["REMEMBER_COOKIE_NAME"] == "remember_token"


async def test_missing_secret_key_names_the_fix() -> None:
    app, _ = build_app()
    app.config["SECRET_KEY"] = None
    async with app.app_context():
        with pytest.raises(RuntimeError, match="Set SECRET_KEY"):
            encode_cookie("ada")
