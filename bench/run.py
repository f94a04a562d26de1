"""Run the side-by-side benchmark: ``python -m bench.run`` (``make bench``).

Every repetition starts each configuration's server afresh, checks that each callback
answers correctly, warms it up, measures every workload at every concurrency with wrk, then
stops the server. Configurations rotate between repetitions, so slow drift on a shared
machine spreads over all of them. Medians, ratios and targets are printed and written with
every raw measurement to ``bench/results/<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import configs, report, wrk
from .apps.common import IO_SECONDS, cpu_work
from .configs import ServerConfig
from .machine import describe, loadavg, versions
from .server import Server, ServerError, request
from .workloads import ALL as WORKLOADS
from .workloads import Probe

RESULTS = Path(__file__).resolve().parent / "results"
LOG_MARKERS = ("Traceback", "ERROR", "Error", "CRITICAL", "WORKER TIMEOUT", "Exception")


def _csv(kind: type, choices: Any = None) -> Any:
    def parse(text: str) -> list[Any]:
        values = [kind(part.strip()) for part in text.split(",") if part.strip()]
        unknown = [v for v in values if choices is not None and v not in choices]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown {', '.join(map(str, unknown))}; choose from {', '.join(choices)}"
            )
        return values

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="Side-by-side benchmark of Dash backends."
    )
    add = parser.add_argument
    add("--duration", type=float, default=5.0, help="seconds per measurement (default 5)")
    add("--reps", type=int, default=3, help="repetitions; medians are reported (default 3)")
    add("--configs", type=_csv(str, configs.ALL), default=list(configs.ALL), help="comma list")
    add("--workloads", type=_csv(str, WORKLOADS), default=list(WORKLOADS), help="comma list")
    add("--concurrency", type=_csv(int), default=[1, 50, 200], help="connections, comma list")
    add("--warmup", type=float, default=1.0, help="warm-up seconds per workload (default 1)")
    add("--timeout", type=float, default=10.0, help="wrk request timeout in s (default 10)")
    add("--quick", action="store_true", help="smoke run: 1 rep, 2 s, c=1 and 50")
    add("--output", type=Path, help="results file (default bench/results/<date>.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.duration, args.concurrency = 1, 2.0, [1, 50]
    if args.reps < 1 or args.duration < 1:
        parser.error("--reps and --duration must be at least 1")
    return args


def calibrate_cpu(target_ms: float = 1.0) -> tuple[int, float]:
    """Loops of :func:`cpu_work` that take ``target_ms`` here, and the time they took."""
    probe = 20_000
    typical = statistics.median(_time(cpu_work, probe) for _ in range(31))
    loops = max(1000, round(probe * target_ms / 1000 / typical))
    return loops, 1000 * statistics.median(_time(cpu_work, loops) for _ in range(31))


def _time(func: Any, *args: Any) -> float:
    started = time.perf_counter()
    func(*args)
    return time.perf_counter() - started


@dataclass
class Session:
    """One benchmark run: its arguments, progress and everything measured so far.

    ``args`` needs ``duration``, ``timeout``, ``warmup`` and ``concurrency``. The servers and
    workloads are the Dash benchmark's unless others are given.
    """

    args: argparse.Namespace
    env: dict[str, str]
    log: Path
    total: int
    server_configs: Mapping[str, ServerConfig] = field(default_factory=lambda: configs.ALL)
    workloads: Mapping[str, Probe] = field(default_factory=lambda: WORKLOADS)
    step: int = 0
    runs: list[dict[str, Any]] = field(default_factory=list)
    servers: list[dict[str, Any]] = field(default_factory=list)

    def label(self, config: str, workload: str, c: int, rep: int) -> str:
        self.step += 1
        return f"[{self.step}/{self.total}] {config} {workload} c={c} rep {rep}"

    def fail(self, rep: int, config: str, workload: str, c: int, error: str) -> None:
        print(f"{self.label(config, workload, c, rep)} ... {error}", flush=True)
        self.runs.append(
            {"rep": rep, "config": config, "workload": workload, "c": c, "error": error}
        )

    def serve(self, rep: int, name: str, workloads: list[str]) -> None:
        """Start ``name``'s server, measure each workload at each concurrency, stop it."""
        offset = self.log.stat().st_size
        server = Server(self.server_configs[name], self.log, self.env)
        record: dict[str, Any] = {"rep": rep, "config": name, "loadavg": loadavg()}
        self.servers.append(record)
        try:
            boot = time.monotonic()
            server.start()
            record.update(boot_s=round(time.monotonic() - boot, 2), pids=sorted(server.pids_seen))
            for workload in workloads:
                self.workload(server, rep, name, workload)
        except ServerError as error:
            record["error"] = str(error)
            print(f"  !! {name} rep {rep}: {error}", flush=True)
            done = {
                (r["workload"], r["c"]) for r in self.runs if (r["rep"], r["config"]) == (rep, name)
            }
            for workload in workloads:
                for c in self.args.concurrency:
                    if (workload, c) not in done:
                        self.fail(rep, name, workload, c, f"server failed: {error}")
        finally:
            server.stop()
            record["log_problems"] = log_problems(self.log, offset)

    def workload(self, server: Server, rep: int, name: str, workload: str) -> None:
        spec = self.workloads[workload]
        url = f"http://127.0.0.1:{server.port}{spec.path}"
        problem = _check_first(server, spec)
        if problem is None and self.args.warmup > 0:
            try:
                wrk.run(url, spec.body(), spec.expected(), connections=8,
                        duration=self.args.warmup, timeout=self.args.timeout,
                        method=spec.method, content_type=spec.content_type)  # fmt: skip
            except wrk.WrkError as error:
                problem = f"warm-up failed: {error}"
            server.quiesce()
        for c in self.args.concurrency:
            if problem is not None:
                self.fail(rep, name, workload, c, problem)
                continue
            self.measure(server, url, rep, name, workload, c)

    def measure(self, server: Server, url: str, rep: int, name: str, workload: str, c: int) -> None:
        print(f"{self.label(name, workload, c, rep)} ...", end=" ", flush=True)
        try:
            record = measure(server, url, self.workloads[workload], connections=c,
                             duration=self.args.duration, timeout=self.args.timeout)  # fmt: skip
        except wrk.WrkError as error:
            print(f"wrk failed: {error}", flush=True)
            self.runs.append({"rep": rep, "config": name, "workload": workload, "c": c,
                              "error": str(error)})  # fmt: skip
            return
        print(summary(record), flush=True)
        self.runs.append({"rep": rep, "config": name, "workload": workload, "c": c, **record})


def measure(
    server: Server, url: str, spec: Probe, *, connections: int, duration: float, timeout: float
) -> dict[str, Any]:
    """One wrk measurement of a running server, with the server's CPU time, then drain it.

    Raises :class:`wrk.WrkError` when wrk fails.
    """
    cpu_before = server.cpu_seconds()
    m = wrk.run(url, spec.body(), spec.expected(), connections=connections, duration=duration,
                timeout=timeout, method=spec.method, content_type=spec.content_type)  # fmt: skip
    server_cpu = server.cpu_seconds() - cpu_before
    drained = server.quiesce()
    return {
        **m.to_json(),
        "server_cpu_s": round(server_cpu, 3),
        "cpu_ms_per_req": round(1000 * server_cpu / m.requests, 3) if m.requests else None,
        "wrk_cpu_s": m.raw["wrk_cpu_s"],
        "quiesce_s": round(drained, 2),
    }


def summary(record: dict[str, Any]) -> str:
    """One measurement as a progress line."""
    return (
        f"{record['rps']:,.0f} rps  p50 {record['p50_ms']:.1f} ms  "
        f"p99 {record['p99_ms']:.1f} ms  errors {record['errors'] + record['bad_body']}  "
        f"split {report.split(record['workers'])}"
    )


def log_problems(log: Path, offset: int) -> list[str]:
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    return [line for line in text.splitlines() if any(m in line for m in LOG_MARKERS)][:20]


def _check_first(server: Server, spec: Probe) -> str | None:
    try:
        status, _, data, _ = request(server.port, spec.method, spec.path, spec.body(),
                                     timeout=30, content_type=spec.content_type)  # fmt: skip
    except OSError as error:
        return f"first request failed: {error}"
    if status != 200 or not spec.accepts(data):
        return f"first request answered {status}: {data[:300]!r}"
    return None


def run(args: argparse.Namespace) -> dict[str, Any]:
    wrk_path = wrk.find_wrk()
    loops, cpu_ms = calibrate_cpu()
    plan = [
        (name, [w for w in args.workloads if w in configs.ALL[name].workloads])
        for name in args.configs
    ]
    log = Path(tempfile.mkdtemp(prefix="dash-quart-bench-")) / "servers.log"
    log.touch()
    session = Session(
        args,
        env={"BENCH_CPU_LOOPS": str(loops), "PYTHONUNBUFFERED": "1"},
        log=log,
        total=args.reps * sum(len(w) for _, w in plan) * len(args.concurrency),
    )
    started = time.time()
    result: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": describe(wrk_path),
        "versions": versions(),
        "parameters": {
            "duration_s": args.duration,
            "reps": args.reps,
            "warmup_s": args.warmup,
            "wrk_timeout_s": args.timeout,
            "wrk_threads": "1 at c=1, else 2",
            "concurrency": args.concurrency,
            "configs": args.configs,
            "workloads": args.workloads,
            "workers_per_server": configs.WORKERS,
            "io_seconds": IO_SECONDS,
            "cpu_loops": loops,
            "cpu_ms_calibrated": round(cpu_ms, 3),
            "quick": args.quick,
        },
        "configs": {
            name: {
                "description": cfg.description,
                "command": cfg.command,
                "backend": cfg.backend,
                "env": cfg.env,
                "workloads": list(cfg.workloads),
            }
            for name, cfg in configs.ALL.items()
            if name in args.configs
        },
        "not_applicable": {
            f"{c}/{w}": reason
            for (c, w), reason in configs.NOT_APPLICABLE.items()
            if c in args.configs and w in args.workloads
        },
    }
    print(
        f"dash-quart bench: {len(plan)} configs, {session.total} measurements of "
        f"{args.duration:g} s, {args.reps} reps; cpu callback = {loops} loops "
        f"({cpu_ms:.2f} ms here)\nserver logs: {log}",
        flush=True,
    )
    for rep in range(1, args.reps + 1):
        shift = (rep - 1) % len(plan)
        for name, workloads in plan[shift:] + plan[:shift]:
            session.serve(rep, name, workloads)
    result["machine"]["loadavg_at_end"] = loadavg()
    result["elapsed_s"] = round(time.time() - started, 1)
    result["server_log"] = str(log)
    result["servers"] = session.servers
    result["runs"] = session.runs
    result["medians"] = report.medians(session.runs)
    result["ratios"] = report.ratios(result["medians"])
    result["targets"] = report.targets(result["medians"])
    return result


def save(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = run(args)
    except wrk.WrkError as error:
        print(error, file=sys.stderr)
        return 1
    suffix = "-quick" if args.quick else ""
    path = args.output or RESULTS / f"{result['date']}{suffix}.json"
    save(result, path)
    print()
    print(report.render(result))
    print(f"\nresults: {path}  ({result['elapsed_s'] / 60:.1f} min)")
    for server in result["servers"]:
        if server.get("error") or server.get("log_problems"):
            print(f"server {server['config']} rep {server['rep']}: "
                  f"{server.get('error', '')} {server.get('log_problems')}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
