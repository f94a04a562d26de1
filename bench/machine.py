"""What the benchmark ran on: machine, interpreter, package versions, load."""

from __future__ import annotations

import os
import platform
import subprocess
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
