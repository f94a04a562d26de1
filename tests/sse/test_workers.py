"""Event streams under a real `hypercorn -w 2`: Redis fan-out and replay, and shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from dash_quart.testing import ReceivedEvent, free_port, read_events, wait_for_port
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def _hypercorn(
    port: int, env: dict[str, str], *extra: str
) -> subprocess.Popen[bytes]:
    binary = Path(sys.executable).with_name("hypercorn")
    return subprocess.Popen(
        [str(binary), "--bind", f"127.0.0.1:{port}", *extra, "tests.sse.stream_app:server"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
    assert process.stderr is not None
    errors = process.stderr.read().decode()
    process.stderr.close()
    return errors


@pytest.fixture(name="two_workers")
def _two_workers(redis_url: str, subprocess_env: dict[str, str]) -> Iterator[str]:
    redis.Redis.from_url(redis_url).flushdb()
    port = free_port()
    env = {**subprocess_env, "SSE_TEST_REDIS_URL": redis_url}
    process = _hypercorn(port, env, "--workers", "2")
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        errors = _stop(process)
        assert "Traceback" not in errors, errors


async def _clients_on_both_workers(url: str) -> dict[int, httpx.AsyncClient]:
    """One single-connection client per worker pid (new connections until both are seen)."""
    found: dict[int, httpx.AsyncClient] = {}
    for _ in range(100):
        client = httpx.AsyncClient(
            base_url=url, trust_env=False, timeout=10, limits=httpx.Limits(max_connections=1)
        )
        pid = (await client.get("/pid")).json()["pid"]
        if pid in found:
            await client.aclose()
        else:
            found[pid] = client
        if len(found) == 2:
            return found
    for client in found.values():
        await client.aclose()
    raise AssertionError(f"100 connections all landed on worker(s) {sorted(found)}")


async def _first_data(events: AsyncIterator[ReceivedEvent], n: int) -> list[ReceivedEvent]:
    out = []
    async with asyncio.timeout(10):
        async for event in events:
            if event.data is not None:
                out.append(event)
                if len(out) == n:
                    return out
    return out


async def test_publish_on_one_worker_reaches_both(two_workers: str) -> None:
    clients = await _clients_on_both_workers(two_workers)
    (pid_a, client_a), (pid_b, client_b) = clients.items()
    try:
        async with (
            client_a.stream("GET", "/channel/fanout") as stream_a,
            client_b.stream("GET", "/channel/fanout") as stream_b,
        ):
            events_a = read_events(stream_a.aiter_lines())
            events_b = read_events(stream_b.aiter_lines())
            # Publish only once both workers have subscribed (the ": subscribed" comment).
            for events in (events_a, events_b):
                async with asyncio.timeout(10):
                    while "subscribed" not in (await anext(events)).comments:
                        pass
            async with httpx.AsyncClient(base_url=two_workers, trust_env=False) as publisher:
                ids = []
                deadline = time.monotonic() + 10
                while len(ids) < 3:
                    assert time.monotonic() < deadline
                    response = await publisher.post("/publish/fanout", json={"n": len(ids)},
                                                    params={"event": "tick"})
                    ids.append(response.json()["id"])
            got_a = await _first_data(events_a, 3)
            got_b = await _first_data(events_b, 3)
        assert [e.json() for e in got_a] == [e.json() for e in got_b] == [
            {"n": 0}, {"n": 1}, {"n": 2},
        ]
        assert [e.id for e in got_a] == [e.id for e in got_b] == ids
        assert {e.event for e in got_a + got_b} == {"tick"}

        # Replay across workers: what worker A's stream saw, worker B replays after it.
        await client_a.post("/publish/fanout", json={"n": 3})
        await client_a.post("/publish/fanout", json={"n": 4})
        headers = {"Last-Event-ID": got_a[-1].id or ""}
        async with client_b.stream("GET", "/channel/fanout", headers=headers) as replay:
            missed = await _first_data(read_events(replay.aiter_lines()), 2)
        assert [e.json() for e in missed] == [{"n": 3}, {"n": 4}]
        assert pid_a != pid_b
    finally:
        for client in clients.values():
            await client.aclose()


def test_shutdown_ends_streams_and_hypercorn_exits(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    port = free_port()
    env = {**subprocess_env, "SSE_TEST_MARKERS": str(tmp_path)}
    process = _hypercorn(port, env, "--graceful-timeout", "2")
    try:
        wait_for_port(port, timeout=30)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=30) as c:
            with c.stream("GET", "/ticks/shutdown", params={"interval": "0.2"}) as response:
                lines = response.iter_lines()
                assert next(lines).startswith("event: tick")
                # As a process manager stops the service: SIGTERM to Hypercorn's main process.
                process.send_signal(signal.SIGTERM)
                started = time.monotonic()
                # After the grace period Hypercorn closes the connection mid-stream; a
                # browser's EventSource then reconnects (to another process).
                with pytest.raises(httpx.RemoteProtocolError):
                    for _ in lines:
                        assert time.monotonic() - started < 10, "the stream outlived shutdown"
        process.wait(timeout=10)
        stopped = time.monotonic() - started
    finally:
        errors = _stop(process)
    assert process.returncode == 0, errors
    assert stopped < 2 + 3, f"hypercorn took {stopped:.1f} s to exit"
    assert (tmp_path / "shutdown").read_text() == "closed"
