"""Where a callback request's time goes: ``python -m bench.profile``.

Serves the benchmark app with one server worker, loads it with wrk, and samples the worker
with py-spy (``--gil``: only the thread holding the GIL, from every thread). Each sample is
charged to the innermost frame that belongs to a known layer, so a ``json.dumps`` called by
Dash counts as Dash dispatch. Worker CPU time per request comes from ``/proc``.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import configs, wrk
from .run import calibrate_cpu
from .server import ROOT, Server, ServerError, group_cpu_seconds, request
from .workloads import ALL as WORKLOADS
from .workloads import CALLBACK_PATH

#: Layers, in the order they are printed, and path fragments that identify their frames.
GROUPS: dict[str, tuple[str, ...]] = {
    "user callback": ("/bench/apps/common.py",),
    "Dash dispatch": ("/dash/", "/dash_quart/", "/plotly/", "/_plotly_utils/"),
    "Quart+werkzeug": (
        "/quart/",
        "/werkzeug/",
        "/flask/",
        "/blinker/",
        "/markupsafe/",
        "/itsdangerous/",
    ),  # fmt: skip
    "hypercorn+h11": ("/hypercorn/", "/h11/", "/h2/", "/wsproto/", "/priority/", "/uvicorn/"),
    "asyncio": (
        "/asyncio/",
        "/concurrent/futures/",
        "/threading.py",
        "/selectors.py",
        "/queue.py",
    ),  # fmt: skip
}
OTHER = "other"
STDLIB = sysconfig.get_paths()["stdlib"]
PROFILED = ("dash_quart_hypercorn", "quart_stock", "dash_quart_uvicorn")


def classify(stack: list[str]) -> tuple[str, str]:
    """The layer a sample belongs to and the frame that decided it (stack is root first)."""
    for frame in reversed(stack):
        for group, fragments in GROUPS.items():
            if any(fragment in frame for fragment in fragments):
                return group, frame
    return OTHER, stack[-1] if stack else "?"


def short(frame: str) -> str:
    """``func (/long/path/site-packages/pkg/mod.py)`` as ``func (pkg/mod.py)``."""
    name, _, path = frame.partition(" (")
    path = path.rstrip(")")
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    else:
        for prefix in (STDLIB, str(ROOT)):
            if path.startswith(prefix + "/"):
                path = path[len(prefix) + 1 :]
                break
    return f"{name} ({path})"


@dataclass
class Profile:
    workload: str
    seconds: float
    requests: int
    cpu_seconds: float
    samples: Counter[tuple[str, str]]
    rate: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def ms_per_request(self, samples: int) -> float:
        return 1000 * samples / self.rate / self.requests if self.requests else 0.0

    def render(self, config: str, connections: int, top: int) -> str:
        total = sum(self.samples.values())
        cpu_ms = 1000 * self.cpu_seconds / self.requests if self.requests else 0.0
        lines = [
            f"{config}, 1 worker, {self.workload}, c={connections}: {self.rps:,.0f} rps; "
            f"worker CPU {cpu_ms:.3f} ms/request (user+system), Python holding the GIL "
            f"{self.ms_per_request(total):.3f} ms/request ({total} samples)",
            f"  {'layer':<16} {'share':>6} {'ms/req':>7}  top frames (share of all samples)",
        ]
        by_group: Counter[str] = Counter()
        for (group, _), count in self.samples.items():
            by_group[group] += count
        for group in [*GROUPS, OTHER]:
            count = by_group[group]
            frames = Counter(
                {frame: n for (g, frame), n in self.samples.items() if g == group}
            ).most_common(top)
            shown = ", ".join(
                f"{short(f)} {100 * n / total:.0f}%" for f, n in frames if n >= total / 200
            )
            share = 100 * count / total if total else 0.0
            lines.append(f"  {group:<16} {share:5.1f}% {self.ms_per_request(count):7.3f}  {shown}")
        return "\n".join(lines)


def find_py_spy() -> str:
    local = Path(sys.executable).parent / "py-spy"
    found = str(local) if local.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("py-spy is not installed: pip install -e '.[bench]'")
    return found


def parse_raw(text: str) -> Counter[tuple[str, str]]:
    """Collapsed stacks (``frame;frame;... count``) as samples per (layer, frame)."""
    samples: Counter[tuple[str, str]] = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        samples[classify(frames)] += int(count)
    return samples


def profile_workload(
    server: Server, py_spy: str, workload: str, args: argparse.Namespace
) -> Profile:
    spec = WORKLOADS[workload]
    status, headers, data, _ = request(server.port, "POST", CALLBACK_PATH, spec.body(), 30)
    if status != 200 or spec.expected().encode() not in data:
        raise ServerError(f"{workload}: first request answered {status}: {data[:200]!r}")
    pid = headers["x-worker-pid"]
    url = f"http://127.0.0.1:{server.port}{CALLBACK_PATH}"
    wrk.run(url, spec.body(), spec.expected(), connections=args.connections, duration=2, timeout=10)
    server.quiesce()
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        out = Path(tmp) / "stacks.txt"
        spy = subprocess.Popen(
            [
                py_spy, "record", "--pid", pid, "--rate", str(args.rate),
                "--duration", str(round(args.duration)), "--format", "raw", "--gil",
                "--nonblocking", "--full-filenames", "--nolineno", "--output", str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        result: dict[str, wrk.Measurement] = {}

        def load() -> None:
            result["m"] = wrk.run(
                url, spec.body(), spec.expected(), connections=args.connections,
                duration=args.duration, timeout=10,
            )  # fmt: skip

        cpu_before = group_cpu_seconds(int(pid), by="pid")
        loader = threading.Thread(target=load)
        loader.start()
        _, stderr = spy.communicate(timeout=args.duration + 60)
        loader.join()
        cpu = group_cpu_seconds(int(pid), by="pid") - cpu_before
        if spy.returncode != 0 or not out.exists():
            raise SystemExit(f"py-spy failed ({spy.returncode}): {stderr.strip()}")
        samples = parse_raw(out.read_text())
    if "m" not in result:
        raise SystemExit(f"wrk failed while profiling {workload}; see the error above")
    m = result["m"]
    return Profile(
        workload=workload,
        seconds=m.raw["duration_us"] / 1e6,
        requests=m.workers.get(pid, 0),
        cpu_seconds=cpu,
        samples=samples,
        rate=args.rate,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--config", choices=PROFILED, default="dash_quart_hypercorn")
    parser.add_argument("--workloads", default="io_async,cpu", help="comma list")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per workload")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=3, help="frames shown per layer")
    args = parser.parse_args(argv)
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {list(WORKLOADS)}")
    py_spy = find_py_spy()
    loops, cpu_ms = calibrate_cpu()
    config = dataclasses.replace(configs.ALL[args.config], workers=1)
    log = Path(tempfile.mkdtemp(prefix="dash-quart-profile-")) / "server.log"
    env = {"BENCH_CPU_LOOPS": str(loops), "PYTHONUNBUFFERED": "1"}
    print(f"profiling {config.name} with 1 worker; cpu callback {cpu_ms:.2f} ms; log {log}")
    with Server(config, log, env) as server:
        for workload in workloads:
            profile = profile_workload(server, py_spy, workload, args)
            print()
            print(profile.render(config.name, args.connections, args.top), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
