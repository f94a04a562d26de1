"""What the benchmark ran on: machine, interpreter, package versions, load."""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from typing import Any

PACKAGES = (
    "dash",
    "dash-quart",
    "quart",
    "hypercorn",
    "uvicorn",
    "gunicorn",
    "flask",
    "werkzeug",
    "fastapi",
    "starlette",
    "h11",
)


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def wrk_version(wrk: str) -> str:
    proc = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    text = (proc.stdout + proc.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def describe(wrk: str) -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "wrk": wrk_version(wrk),
        "loadavg_at_start": loadavg(),
    }


def thread_hop_us(hops: int = 2000) -> float:
    """Median µs of an idle round trip from an event loop to a pool thread and back.

    Every server here that runs sync code off its event loop pays this once per request, so
    it is taken before each repetition: on a virtual machine it can double within an hour,
    and the latency at one connection follows it.
    """

    async def measure() -> float:
        loop = asyncio.get_running_loop()
        times: list[float] = []
        with ThreadPoolExecutor(max_workers=1) as pool:
            for n in range(hops + 200):
                started = time.perf_counter()
                await loop.run_in_executor(pool, int)
                if n >= 200:  # the first ones start the thread and warm up
                    times.append(time.perf_counter() - started)
        return statistics.median(times) * 1e6

    return round(asyncio.run(measure()), 1)
