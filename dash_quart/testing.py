"""Helpers for testing Dash apps on Quart: a live Hypercorn server and callback requests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 15.0, host: str = "127.0.0.1") -> None:
    """Poll until ``host:port`` accepts connections, or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"Nothing listens on {host}:{port} after {timeout} s") from None
            time.sleep(0.05)


@contextmanager
def live_server(app: Any, *, port: int | None = None, timeout: float = 15.0) -> Iterator[str]:
    """Serve a Dash app (or its Quart server) with Hypercorn on 127.0.0.1 in a thread.

    Yields the base URL. The server runs on its own event loop, so a test's client never
    shares the loop it measures::

        with live_server(app) as url:
            httpx.get(f"{url}/_dash-layout")

    .. versionadded:: 0.1
    """
    server: Quart = getattr(app, "server", app)
    port = free_port() if port is None else port
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.graceful_timeout = 2.0
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    def _run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(serve(server, config, shutdown_trigger=stop.wait))
        except BaseException as error:  # reported to the caller below
            failure.append(error)
        finally:
            loop.close()

    thread = threading.Thread(target=_run, name=f"live-server-{port}", daemon=True)
    thread.start()
    try:
        wait_for_port(port, timeout)
    except TimeoutError:
        if failure:
            raise RuntimeError(f"The live server failed to start: {failure[0]!r}") from failure[0]
        raise
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError(f"The live server on port {port} did not stop within {timeout} s")


def callback_body(
    outputs: Sequence[tuple[str, str]] | tuple[str, str],
    inputs: Sequence[tuple[str, str, Any]] = (),
    state: Sequence[tuple[str, str, Any]] = (),
    *,
    changed: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Build the JSON body the Dash renderer posts to ``_dash-update-component``.

    ``outputs`` is one ``(id, property)`` pair or a list of them; ``inputs`` and ``state`` are
    ``(id, property, value)`` triples. ``changed`` defaults to every input.

    .. versionadded:: 0.1
    """
    multi = not (isinstance(outputs, tuple) and len(outputs) == 2 and isinstance(outputs[1], str))
    if multi:
        pairs = list(cast("Sequence[tuple[str, str]]", outputs))
    else:
        pairs = [cast("tuple[str, str]", outputs)]
    specs = [{"id": cid, "property": prop} for cid, prop in pairs]
    if multi:
        output = ".." + "...".join(f"{cid}.{prop}" for cid, prop in pairs) + ".."
    else:
        output = f"{pairs[0][0]}.{pairs[0][1]}"

    def _values(items: Sequence[tuple[str, str, Any]]) -> list[Mapping[str, Any]]:
        return [{"id": cid, "property": prop, "value": value} for cid, prop, value in items]

    return {
        "output": output,
        "outputs": specs if multi else specs[0],
        "inputs": _values(inputs),
        "state": _values(state),
        "changedPropIds": list(changed)
        if changed is not None
        else [f"{cid}.{prop}" for cid, prop, _ in inputs],
    }


class ReceivedEvent:
    """One block of an event stream as a client received it (comments included)."""

    __slots__ = ("comments", "data", "event", "id", "retry")

    def __init__(self) -> None:
        self.event = "message"
        self.data: str | None = None
        self.id: str | None = None
        self.retry: int | None = None
        self.comments: list[str] = []

    def json(self) -> Any:
        import json

        return json.loads(self.data or "null")

    def __repr__(self) -> str:
        return (
            f"ReceivedEvent(event={self.event!r}, data={self.data!r}, id={self.id!r}, "
            f"comments={self.comments!r})"
        )


async def read_events(lines: AsyncIterator[str]) -> AsyncIterator[ReceivedEvent]:
    """Parse an event stream from its lines, e.g. ``httpx.Response.aiter_lines()``::

        async with client.stream("GET", "/prices") as response:
            async for event in read_events(response.aiter_lines()):
                ...

    Blocks of only comments (such as keep-alive pings) are yielded too, with ``data`` None.

    .. versionadded:: 0.1
    """
    current = ReceivedEvent()
    seen = False
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if line == "":
            if seen:
                yield current
            current, seen = ReceivedEvent(), False
            continue
        seen = True
        if line.startswith(":"):
            current.comments.append(line[1:].removeprefix(" "))
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            current.data = value if current.data is None else f"{current.data}\n{value}"
        elif name == "event":
            current.event = value
        elif name == "id":
            current.id = value
        elif name == "retry" and value.isdigit():
            current.retry = int(value)


@contextmanager
def hypercorn_server(
    target: str,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    args: Sequence[str] = (),
    timeout: float = 30.0,
) -> Iterator[str]:
    """Run ``hypercorn <target>`` in a subprocess on a free loopback port; yield its URL.

    ``args`` are extra Hypercorn options (``["--workers", "2"]``). On exit Hypercorn's main
    process gets SIGTERM, as a process manager would send it, and a traceback in its error
    output (other than cancelled tasks at shutdown) fails the caller::

        with hypercorn_server("app:server", args=["--workers", "2"]) as url:
            httpx.get(f"{url}/_dash-layout")

    .. versionadded:: 0.1
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    port = free_port()
    binary = Path(sys.executable).with_name("hypercorn")
    process = subprocess.Popen(
        [str(binary), "--bind", f"127.0.0.1:{port}", *args, target],
        cwd=cwd, env=dict(os.environ if env is None else env),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        try:
            wait_for_port(port, timeout)
        except TimeoutError:
            process.kill()
            raise
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
        assert process.stderr is not None
        errors = process.stderr.read().decode()
        process.stderr.close()
    lines = errors.splitlines()
    tracebacks = sum(line.startswith("Traceback") for line in lines)
    cancelled = sum(line.strip() == "asyncio.exceptions.CancelledError" for line in lines)
    if tracebacks > cancelled:
        raise AssertionError(f"Hypercorn logged an error:\n{errors}")
