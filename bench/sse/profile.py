"""Where a fan-out delivery's time goes: ``python -m bench.sse.profile``.

Runs one fan-out measurement on one configuration while py-spy samples the server worker,
then charges each sample to a layer: the innermost frame of a known library, except that a
sample whose innermost frame is asyncio's ``_SelectorSocketTransport.write`` counts as the
socket send itself (the ``send()`` system call). Worker CPU from ``/proc`` is divided by the
events delivered, so the layers read as microseconds per delivery.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from ..profile import find_py_spy, short
from . import measure, servers
from .host import raise_open_files

SEND = "socket send"
LAYERS: dict[str, tuple[str, ...]] = {
    "dash_quart": ("/dash_quart/",),
    "sse-starlette": ("/sse_starlette/",),
    "starlette+anyio": ("/starlette/", "/anyio/"),
    "Quart+werkzeug": ("/quart/", "/werkzeug/"),
    "hypercorn/uvicorn+h11": ("/hypercorn/", "/uvicorn/", "/h11/"),
    "redis-py": ("/redis/",),
    "json": ("/json/",),
    "bench app": ("/bench/sse/",),
    "asyncio": ("/asyncio/", "/selectors.py", "/heapq.py"),
}
OTHER = "other"


def classify(stack: list[str]) -> tuple[str, str]:
    """The layer of a sample (stack root first) and the frame that decided it."""
    if stack and stack[-1].startswith("_SelectorSocketTransport.write "):
        return SEND, stack[-1]
    for frame in reversed(stack):
        for layer, fragments in LAYERS.items():
            if any(fragment in frame for fragment in fragments):
                return layer, frame
    return OTHER, stack[-1] if stack else "?"


def parse_raw(text: str) -> Counter[tuple[str, str]]:
    samples: Counter[tuple[str, str]] = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
            samples[classify(frames)] += int(count)
    return samples


def render(samples: Counter[tuple[str, str]], cpu_us: float, top: int) -> str:
    total = sum(samples.values()) or 1
    by_layer: Counter[str] = Counter()
    for (layer, _), count in samples.items():
        by_layer[layer] += count
    lines = [f"  {'layer':<22} {'share':>6} {'us/delivery':>11}  top frames (share of all samples)"]
    for layer, count in by_layer.most_common():
        frames = Counter({f: n for (g, f), n in samples.items() if g == layer}).most_common(top)
        shown = ", ".join(f"{short(f)} {100 * n / total:.0f}%" for f, n in frames)
        share = count / total
        lines.append(f"  {layer:<22} {100 * share:5.1f}% {share * cpu_us:11.1f}  {shown}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sse.profile", description=__doc__)
    parser.add_argument("--config", choices=tuple(servers.ALL), default="dash_quart_memory")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of publishing")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=3, help="frames shown per layer")
    parser.add_argument("--primer", action="store_true", help="as in python -m bench.sse")
    args = parser.parse_args(argv)
    py_spy = find_py_spy()
    raise_open_files(args.clients + 4096)
    config = servers.ALL[args.config]
    opts = measure.Options(seconds=args.seconds, primer=args.primer)
    log = Path(tempfile.mkdtemp(prefix="dash-quart-sse-profile-")) / "server.log"
    log.touch()
    with servers.redis_server() as redis:
        env = {"BENCH_SSE_REDIS_URL": redis[0] if config.broadcast == "redis" else ""}
        found = redis if config.broadcast == "redis" else None
        spy = Spy(py_spy, args.rate, args.seconds)
        server, pid = measure.start_server(config, log, env)
        try:
            spy.watch(server.port, pid)
            record = measure.fanout_on(server, pid, args.clients, opts, found)
        finally:
            server.stop()
    delivered = record.get("delivered") or 0
    cpu_us = 1e6 * record["server_cpu_s"] / delivered if delivered else 0.0
    print(
        f"{args.config}, {args.clients:,} clients, {args.seconds:g} s at {opts.rate:g} events/s: "
        f"{delivered:,} deliveries ({100 * (record.get('delivered_frac') or 0):.1f}%), worker "
        f"CPU {record['server_cpu_s']:.2f} s = {cpu_us:.1f} us per delivery; "
        f"p50 {record.get('p50_ms')} ms, p99 {record.get('p99_ms')} ms"
    )
    print(render(spy.samples(), cpu_us, args.top))
    print(f"server log: {log}")
    return 0


class Spy:
    """py-spy on the worker for the publishing window only, started when the run starts."""

    def __init__(self, py_spy: str, rate: int, seconds: float) -> None:
        self.py_spy, self.rate, self.seconds = py_spy, rate, seconds
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-sse-profile-")
        self.out = Path(self.tmp.name) / "stacks.txt"
        self.thread: threading.Thread | None = None
        self.error = ""

    def watch(self, port: int, pid: int) -> None:
        self.thread = threading.Thread(target=self._run, args=(port, pid), daemon=True)
        self.thread.start()

    def _run(self, port: int, pid: int) -> None:
        end = time.monotonic() + 300
        while time.monotonic() < end and not measure.server_stats(port)["running"]:
            time.sleep(0.05)
        proc = subprocess.run(
            [self.py_spy, "record", "--pid", str(pid), "--rate", str(self.rate),
             "--duration", str(max(1, round(self.seconds))), "--format", "raw",
             "--nonblocking", "--full-filenames", "--nolineno", "--output", str(self.out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
            timeout=self.seconds + 120,
        )  # fmt: skip
        self.error = proc.stderr.strip() if proc.returncode else ""

    def samples(self) -> Counter[tuple[str, str]]:
        if self.thread is not None:
            self.thread.join(timeout=self.seconds + 150)
        if not self.out.exists():
            raise SystemExit(f"py-spy wrote no samples: {self.error}")
        try:
            return parse_raw(self.out.read_text())
        finally:
            self.tmp.cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
