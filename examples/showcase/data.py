"""The showcase's users, in SQLite through aiosqlite."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import aiosqlite
from werkzeug.security import check_password_hash, generate_password_hash

import dash_quart

DEMO_USERS = [("demo", "Demo User", "demo-password"), ("analyst", "Ana Lyst", "analyst-password")]
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    session_epoch INTEGER NOT NULL DEFAULT 0
);
"""


def database_path() -> str:
    return os.environ.get("SHOWCASE_DB") or str(
        Path(tempfile.gettempdir()) / "dash-quart-showcase.sqlite3"
    )


async def init_db() -> None:
    async with aiosqlite.connect(database_path()) as db:
        await db.executescript(SCHEMA)
        for username, name, password in DEMO_USERS:
            digest = await dash_quart.run_sync(generate_password_hash, password)
            await db.execute(
                "INSERT OR IGNORE INTO users (username, name, password_hash) VALUES (?, ?, ?)",
                (username, name, digest),
            )
        await db.commit()


async def user_by_id(user_id: str) -> dict[str, Any] | None:
    async with aiosqlite.connect(database_path()) as db:
        db.row_factory = aiosqlite.Row
        cursor = await db.execute(
            "SELECT id, username, name, session_epoch FROM users WHERE id = ?", (user_id,)
        )
        row = await cursor.fetchone()
    return dict(row) if row is not None else None


async def check_password(username: str, password: str) -> dict[str, Any] | None:
    async with aiosqlite.connect(database_path()) as db:
        db.row_factory = aiosqlite.Row
        cursor = await db.execute(
            "SELECT id, username, name, session_epoch, password_hash FROM users "
            "WHERE username = ?",
            (username,),
        )
        row = await cursor.fetchone()
    if row is None:
        return None
    ok = await dash_quart.run_sync(check_password_hash, row["password_hash"], password)
    return {k: row[k] for k in ("id", "username", "name", "session_epoch")} if ok else None


async def end_all_sessions(user_id: str) -> None:
    """Invalidate every session of this user, on every worker and device."""
    async with aiosqlite.connect(database_path()) as db:
        await db.execute(
            "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = ?", (user_id,)
        )
        await db.commit()
