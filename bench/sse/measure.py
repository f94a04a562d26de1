"""One measurement of each kind: idle streams held open, and events fanned out.

Every wait is bounded; a measurement that cannot complete raises :class:`MeasureError`.
"""

from __future__ import annotations

import json
import math
import os
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..run import LOG_MARKERS
from ..server import Server, ServerError, group_cpu_seconds, request
from .client import Plan
from .clients import Clients, MeasureError, connect, split
from .servers import SseServer, redis_answers, redis_connections

#: What marks a server log line as trouble: the main benchmark's markers and warnings.
MARKERS = (*LOG_MARKERS, "WARNING", "Warning", "retrying", "raised exception")


@dataclass(frozen=True)
class Options:
    batch: int = 500
    connect_deadline: float = 120.0
    settle: float = 2.0
    idle_seconds: float = 5.0
    rate: float = 20.0
    seconds: float = 10.0
    grace: float = 5.0
    client_procs: int = 4
    close_deadline: float = 60.0
    primer: bool = False
    #: CPUs the server (and what it starts) runs on; the clients get the others. Empty: all.
    server_cpus: tuple[int, ...] = ()


def log_report(log: Path, offset: int, limit: int = 20) -> dict[str, Any]:
    """Lines the server logged since ``offset`` that look like trouble, counted by text."""
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    found = Counter(line for line in text.splitlines() if any(m in line for m in MARKERS))
    return {
        "log_problem_lines": sum(found.values()),
        "log_problems": [f"{line} (x{count})" for line, count in found.most_common(limit)],
    }


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (``VmRSS`` of ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise MeasureError(f"no VmRSS for pid {pid}")


def server_stats(port: int) -> dict[str, Any]:
    status, _, data, _ = request(port, "GET", "/bench/stats", timeout=30.0)
    if status != 200:
        raise MeasureError(f"/bench/stats answered {status}: {data[:200]!r}")
    stats: dict[str, Any] = json.loads(data)
    return stats


def wait_for_clients(port: int, expected: int, deadline: float) -> tuple[int, float]:
    """Poll until the server counts ``expected`` subscribers: the last count, seconds waited."""
    started = time.monotonic()
    while True:
        count = int(server_stats(port)["clients"])
        waited = time.monotonic() - started
        if count == expected or waited > deadline:
            return count, waited
        time.sleep(0.1)


@contextmanager
def pinned(cpus: tuple[int, ...]) -> Iterator[None]:
    """Run the block, and so start its processes, on ``cpus`` only (all CPUs if empty)."""
    if not cpus:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def start_server(
    config: SseServer, log: Path, env: dict[str, str], opts: Options
) -> tuple[Server, int]:
    """Start ``config``'s server and return it with its worker's pid."""
    server = Server(config, log, env)
    with pinned(opts.server_cpus):
        server.start()
    try:
        status, _, data, _ = request(server.port, "GET", "/bench/info")
        found = json.loads(data).get("broadcast") if status == 200 else None
        if found != config.broadcast:
            raise ServerError(f"{config.name} broadcasts via {found}, expected {config.broadcast}")
        return server, int(next(iter(server.pids_seen)))
    except BaseException:
        server.stop()
        raise


def idle(
    config: SseServer, n: int, opts: Options, log: Path, env: dict[str, str]
) -> dict[str, Any]:
    """Hold ``n`` idle streams on a fresh server: RSS before, with and after, and idle CPU."""
    offset = log.stat().st_size
    server, pid = start_server(config, log, env, opts)
    record: dict[str, Any] = {}
    try:
        plan = Plan(server.port, "/idle", 20, parse=False, batch=opts.batch)
        clients, _ = connect([plan], opts.connect_deadline)
        with clients:
            clients.stop_at(time.time())
            clients.results(30)
        wait_for_clients(server.port, 0, opts.close_deadline)
        time.sleep(1.0)
        record["rss_before_kib"] = rss_kib(pid)
        plans = [
            Plan(server.port, "/idle", n, parse=False, batch=opts.batch,
                 connect_deadline=opts.connect_deadline)
        ]  # fmt: skip
        clients, summary = connect(plans, opts.connect_deadline)
        with clients:
            record.update(summary)
            time.sleep(opts.settle)
            record["server_clients"] = server_stats(server.port)["clients"]
            record["rss_with_kib"] = rss_kib(pid)
            cpu, wall = group_cpu_seconds(pid, by="pid"), time.monotonic()
            time.sleep(opts.idle_seconds)
            cpu, wall = group_cpu_seconds(pid, by="pid") - cpu, time.monotonic() - wall
            record["idle_cpu_pct"] = round(100 * cpu / wall, 2)
            clients.stop_at(time.time())
            result = clients.results(60)[0]
        record["dropped"] = result["dropped"]
        record.update(_closing(server.port, opts))
        record["rss_after_kib"] = rss_kib(pid)
        delta = record["rss_with_kib"] - record["rss_before_kib"]
        record["rss_per_conn_kib"] = round(delta / record["connected"], 2) if record[
            "connected"] else None  # fmt: skip
    finally:
        server.stop()
    return {**record, **log_report(log, offset)}


def _closing(port: int, opts: Options) -> dict[str, Any]:
    left, waited = wait_for_clients(port, 0, opts.close_deadline)
    return {"server_clients_after_close": left, "close_s": round(waited, 2)}


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ordered list."""
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def fanout_on(
    server: Server, pid: int, n: int, opts: Options, redis: tuple[str, int] | None
) -> dict[str, Any]:
    """One fan-out measurement on a running server, with the primer if ``opts`` asks."""
    with ExitStack() as stack:
        primed = 0
        if opts.primer:
            primer, _ = connect(
                [Plan(server.port, "/events", 1, parse=False)], opts.connect_deadline
            )
            stack.enter_context(primer)
            stack.callback(_release, primer)
            primed, _ = wait_for_clients(server.port, 1, 30.0)
        return _fanout(server, pid, n, opts, redis, primed)


def fanout(
    config: SseServer,
    n: int,
    opts: Options,
    log: Path,
    env: dict[str, str],
    redis: tuple[str, int] | None,
) -> dict[str, Any]:
    """``n`` clients on the fan-out channel of a fresh server while it publishes."""
    if redis and not redis_answers(redis[0]):
        raise MeasureError(f"redis-server (pid {redis[1]}) does not answer any more")
    offset = log.stat().st_size
    server, pid = start_server(config, log, env, opts)
    try:
        record = fanout_on(server, pid, n, opts, redis)
    finally:
        server.stop()
    return {**record, **log_report(log, offset)}


def _release(clients: Clients) -> None:
    clients.stop_at(time.time())
    clients.results(30)


def _fanout(
    server: Server, pid: int, n: int, opts: Options, redis: tuple[str, int] | None, primed: int
) -> dict[str, Any]:
    plans = [
        Plan(server.port, "/events", share, parse=True, batch=opts.batch,
             connect_deadline=opts.connect_deadline)
        for share in split(n, opts.client_procs)
    ]  # fmt: skip
    clients, record = connect(plans, opts.connect_deadline)
    with clients:
        subscribed, _ = wait_for_clients(server.port, record["connected"] + primed, 30.0)
        record["server_clients"] = subscribed - primed
        if redis:
            record["redis_connections"] = redis_connections(redis[0])
        cpu = _server_cpu(server, pid)
        redis_cpu = group_cpu_seconds(redis[1], by="pid") if redis else 0.0
        status, _, data, _ = request(
            server.port, "POST", f"/bench/start?rate={opts.rate}&seconds={opts.seconds}", ""
        )
        if status != 200:
            raise MeasureError(f"/bench/start answered {status}: {data[:200]!r}")
        started = float(json.loads(data)["started"])
        clients.stop_at(started + opts.seconds + opts.grace)
        results = clients.results(opts.seconds + opts.grace + 120)
        window = time.time() - started
        cpu = _server_cpu(server, pid) - cpu
        record.update(server_cpu_s=round(cpu, 3), server_cpu_pct=round(100 * cpu / window, 1))
        if redis:
            redis_cpu = group_cpu_seconds(redis[1], by="pid") - redis_cpu
            record["redis_cpu_pct"] = round(100 * redis_cpu / window, 1)
    end = time.monotonic() + opts.close_deadline
    stats = server_stats(server.port)
    while stats["running"] and time.monotonic() < end:
        time.sleep(0.2)
        stats = server_stats(server.port)
    record.update(_delivery(results, stats, started, record["connected"]))
    record["publisher"] = stats
    left, waited = wait_for_clients(server.port, primed, opts.close_deadline)
    record.update(server_clients_after_close=left - primed, close_s=round(waited, 2))
    if redis:
        time.sleep(1.0)
        record["redis_connections_after_close"] = redis_connections(redis[0])
    return record


def _server_cpu(server: Server, pid: int) -> float:
    """CPU seconds of the worker, or of every process of the server when it has several."""
    if server.config.workers > 1 and server.proc is not None:
        return group_cpu_seconds(server.proc.pid, by="pgid")
    return group_cpu_seconds(pid, by="pid")


def _delivery(
    results: list[dict[str, Any]], stats: dict[str, Any], started: float, connected: int
) -> dict[str, Any]:
    latencies: array[float] = array("d")
    for result in results:
        latencies.frombytes(result["latencies"])
    ordered = sorted(latencies)
    expected = int(stats["published"]) * connected
    last = max((r["last"] for r in results), default=0.0)
    client_cpu = [100 * r["cpu_s"] / r["wall_s"] for r in results if r["wall_s"]]
    record: dict[str, Any] = {
        "published": stats["published"],
        "expected": expected,
        "delivered": len(ordered),
        "delivered_frac": round(len(ordered) / expected, 5) if expected else None,
        "dropped": sum(r["dropped"] for r in results),
        "deliveries_per_s": round(len(ordered) / (last - started)) if last > started else None,
        "client_cpu_pct": [round(c, 1) for c in client_cpu],
    }
    if ordered:
        record.update(
            p50_ms=round(1000 * percentile(ordered, 0.5), 2),
            p99_ms=round(1000 * percentile(ordered, 0.99), 2),
            max_ms=round(1000 * ordered[-1], 2),
            min_ms=round(1000 * ordered[0], 2),
        )
    rank = math.ceil(0.99 * expected) - 1
    record["p99_all_ms"] = (
        round(1000 * ordered[rank], 2) if expected and rank < len(ordered) else None
    )
    return record
