"""The layout, callbacks and worker-identity helpers shared by every benchmarked app."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from importlib.util import find_spec
from typing import Any

from dash import Dash, Input, Output, dcc, html

#: Seconds each I/O callback waits.
IO_SECONDS = 0.05

#: Iterations of :func:`cpu_work` that take about 1 ms here; ``bench.run`` calibrates it
#: once and passes it to every server so that all backends do the same work.
CPU_LOOPS = int(os.environ.get("BENCH_CPU_LOOPS", "20000"))

PID = str(os.getpid())

WORKLOADS = ("io_async", "io_sync", "cpu")

#: Dash's Flask backend runs ``async def`` callbacks only with ``dash[async]`` installed.
FLASK_ASYNC = find_spec("asgiref") is not None


def cpu_work(loops: int) -> int:
    total = 0
    for i in range(loops):
        total += i * i % 7
    return total


async def io_async(value: Any) -> str:
    await asyncio.sleep(IO_SECONDS)
    return f"io_async {value}"


def io_sync(value: Any) -> str:
    time.sleep(IO_SECONDS)
    return f"io_sync {value}"


def cpu(value: Any) -> str:
    cpu_work(CPU_LOOPS)
    return f"cpu {value}"


CALLBACKS: dict[str, Callable[[Any], Any]] = {"io_async": io_async, "io_sync": io_sync, "cpu": cpu}


def build(app: Dash, *, async_callbacks: bool = True) -> None:
    """Give ``app`` one input, one output and one callback per workload."""
    names = [name for name in WORKLOADS if async_callbacks or name != "io_async"]
    app.layout = html.Div(
        [
            html.Div([dcc.Input(id=f"in-{name}", value=0), html.Div(id=f"out-{name}")])
            for name in names
        ]
    )
    for name in names:
        app.callback(Output(f"out-{name}", "children"), Input(f"in-{name}", "value"))(
            CALLBACKS[name]
        )


def check_backend(app: Dash) -> str:
    """Fail at import when the app is not on the backend the benchmark asked for."""
    name = type(app.backend).__name__
    expected = os.environ.get("BENCH_EXPECT_BACKEND")
    if expected and name != expected:
        raise RuntimeError(f"benchmark app expected backend {expected}, got {name}")
    print(f"bench app: pid {PID}, backend {name}", flush=True)  # noqa: T201
    return name


def info(backend: str) -> dict[str, str]:
    return {"pid": PID, "backend": backend}
