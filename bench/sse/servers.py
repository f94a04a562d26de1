"""The servers under test, each one worker process, and the Redis server behind one of them."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..configs import ServerConfig
from ..server import free_port

#: Both servers get the same listen backlog (uvicorn's default), so that opening thousands
#: of connections measures the servers rather than Hypercorn's default backlog of 100.
BACKLOG = "2048"


@dataclass(frozen=True)
class SseServer(ServerConfig):
    """A :class:`~bench.configs.ServerConfig` with options inserted before the app."""

    extra: tuple[str, ...] = ()
    broadcast: str = "memory"

    def argv(self, port: int) -> list[str]:
        base = super().argv(port)
        return [*base[:-1], *self.extra, base[-1]]


DASH_APP = "bench.sse.dash_app:server"

ALL: dict[str, SseServer] = {
    config.name: config
    for config in (
        SseServer(
            "dash_quart_memory",
            "dash_quart Broadcaster (memory) + EventStream, Dash app, hypercorn, 1 worker",
            DASH_APP,
            "hypercorn",
            "QuartBackend",
            workers=1,
            extra=("--backlog", BACKLOG),
        ),
        SseServer(
            "dash_quart_redis",
            "dash_quart Broadcaster (Redis Streams) + EventStream, Dash app, hypercorn, 1 worker",
            DASH_APP,
            "hypercorn",
            "QuartBackend",
            workers=1,
            extra=("--backlog", BACKLOG),
            broadcast="redis",
        ),
        SseServer(
            "dash_quart_redis_2w",
            "dash_quart Broadcaster (Redis Streams) + EventStream, Dash app, hypercorn, 2 workers;"
            " the events are published by a process of their own",
            DASH_APP,
            "hypercorn",
            "QuartBackend",
            env={"BENCH_SSE_SHARED_STATS": "1", "BENCH_SSE_EXTERNAL_PUBLISHER": "1"},
            workers=2,
            extra=("--backlog", BACKLOG),
            broadcast="redis",
        ),
        SseServer(
            "dash_quart_memory_uvloop",
            "as dash_quart_memory, on Hypercorn's uvloop worker class (-k uvloop)",
            DASH_APP,
            "hypercorn",
            "QuartBackend",
            workers=1,
            extra=("--backlog", BACKLOG, "-k", "uvloop"),
        ),
        SseServer(
            "sse_starlette",
            "sse-starlette EventSourceResponse + asyncio.Queue fan-out, uvicorn, 1 worker",
            "bench.sse.starlette_app:app",
            "uvicorn",
            "sse-starlette",
            workers=1,
            extra=("--backlog", BACKLOG, "--loop", "asyncio"),
        ),
        SseServer(
            "sse_starlette_uvloop",
            "as sse_starlette, on uvloop (--loop uvloop)",
            "bench.sse.starlette_app:app",
            "uvicorn",
            "sse-starlette",
            workers=1,
            extra=("--backlog", BACKLOG, "--loop", "uvloop"),
        ),
    )
}

#: What a run measures unless ``--configs`` says otherwise; the uvloop variants are extra.
DEFAULT = ("dash_quart_memory", "dash_quart_redis", "sse_starlette")

#: The configurations of the idle-streams test: Redis changes nothing for an idle stream.
IDLE = ("dash_quart_memory", "sse_starlette")


class RedisError(RuntimeError):
    """redis-server is missing or did not start."""


def _query(url: str, command: bytes, until: bytes, timeout: float = 5.0) -> bytes:
    """Send ``command`` to the Redis server at ``url`` (after AUTH) and read up to ``until``."""
    address, _, _ = url.split("//", 1)[1].partition("/")
    password, _, host_port = address.rpartition("@")
    host, _, port = host_port.rpartition(":")
    auth = f"AUTH {password.lstrip(':')}\r\n".encode() if password else b""
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(auth + command)
        data = b""
        while until not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def redis_answers(url: str) -> bool:
    try:
        return b"+PONG" in _query(url, b"PING\r\n", b"+PONG", timeout=1.0)
    except OSError:
        return False


def public(url: str) -> str:
    """``url`` without its password, for reports."""
    scheme, _, rest = url.partition("//")
    return f"{scheme}//{rest.rpartition('@')[2]}"


def redis_connections(url: str) -> int:
    """Clients connected to the Redis server at ``url``, not counting this query's own."""
    data = _query(url, b"INFO clients\r\n", b"blocked_clients:")
    for line in data.decode(errors="replace").splitlines():
        if line.startswith("connected_clients:"):
            return int(line.split(":", 1)[1]) - 1
    raise RedisError(f"no connected_clients in INFO from {public(url)}")


@contextmanager
def redis_server(deadline: float = 15.0) -> Iterator[tuple[str, int]]:
    """A throw-away ``redis-server`` on a free loopback port: its URL and pid.

    It has a random password, so that nothing else on the machine uses it by chance.
    """
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):
        raise RedisError("redis-server is missing: install the Debian package redis-server")
    port = free_port()
    password = secrets.token_hex(16)
    url = f"redis://:{password}@127.0.0.1:{port}/0"
    with tempfile.TemporaryDirectory(prefix="bench-sse-redis-") as workdir:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", workdir, "--requirepass", password],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            end = time.monotonic() + deadline
            while not redis_answers(url):
                if proc.poll() is not None or time.monotonic() > end:
                    raise RedisError(f"redis-server did not answer on port {port}")
                time.sleep(0.1)
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
