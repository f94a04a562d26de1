"""A throw-away ``redis-server`` on a free loopback port, without persistence."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ..server import free_port


class RedisError(RuntimeError):
    """redis-server is missing or did not start."""


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def version() -> str:
    """``redis-server --version``, or ``missing``."""
    binary = shutil.which("redis-server")
    if binary is None:
        return "missing"
    proc = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return proc.stdout.strip()


@contextmanager
def redis_server(deadline: float = 15.0) -> Iterator[str]:
    """Start ``redis-server --save "" --appendonly no`` on a free port; yield its base URL.

    The URL has no database number: append ``/0``, ``/1``, ... The server is stopped on exit.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisError("redis-server is missing: install the Debian package redis-server")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-caching-redis-") as workdir:
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            end = time.monotonic() + deadline
            while not _pong(port):
                if proc.poll() is not None or time.monotonic() > end:
                    raise RedisError(f"redis-server did not answer on port {port}")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
