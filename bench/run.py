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
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import configs, report, wrk
from .apps.common import IO_SECONDS, cpu_work
from .machine import describe, loadavg, versions
from .server import Server, ServerError, request
from .workloads import ALL as WORKLOADS
from .workloads import CALLBACK_PATH

RESULTS = Path(__file__).resolve().parent / "results"
LOG_MARKERS = ("Traceback", "ERROR", "Error", "CRITICAL", "WORKER TIMEOUT", "Exception")


def _csv(kind: type, choices: Any = None) -> Any:
    def parse(text: str) -> list[Any]:
        values = [kind(part.strip()) for part in text.split(",") if part.strip()]
        if choices is not None:
            unknown = [v for v in values if v not in choices]
            if unknown:
                raise argparse.ArgumentTypeError(
                    f"unknown {', '.join(map(str, unknown))}; choose from {', '.join(choices)}"
                )
        return values

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement (5)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions; medians are reported (3)")
    parser.add_argument(
        "--configs", type=_csv(str, configs.ALL), default=list(configs.ALL), help="comma list"
    )
    parser.add_argument(
        "--workloads", type=_csv(str, WORKLOADS), default=list(WORKLOADS), help="comma list"
    )
    parser.add_argument(
        "--concurrency", type=_csv(int), default=[1, 50, 200], help="connections, comma list"
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per workload")
    parser.add_argument("--timeout", type=float, default=10.0, help="wrk request timeout, s")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 rep, 2 s, c=1 and 50")
    parser.add_argument("--output", type=Path, help="results file (bench/results/<date>.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.duration, args.concurrency = 1, 2.0, [1, 50]
    return args


def calibrate_cpu(target_ms: float = 1.0) -> tuple[int, float]:
    """Loops of :func:`cpu_work` that take ``target_ms`` here, and the time they took."""
    probe = 20_000
    best = min(_time(cpu_work, probe) for _ in range(7))
    loops = max(1000, round(probe * target_ms / 1000 / best))
    took = min(_time(cpu_work, loops) for _ in range(7))
    return loops, took * 1000


def _time(func: Any, *args: Any) -> float:
    started = time.perf_counter()
    func(*args)
    return time.perf_counter() - started


def _log_problems(log: Path, offset: int) -> list[str]:
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    return [line for line in text.splitlines() if any(m in line for m in LOG_MARKERS)][:20]


def _check_first(server: Server, workload: str) -> str | None:
    spec = WORKLOADS[workload]
    try:
        status, _, data, _ = server_request(server, spec.body())
    except OSError as error:
        return f"first request failed: {error}"
    if status != 200 or spec.expected().encode() not in data:
        return f"first request answered {status}: {data[:300]!r}"
    return None


def server_request(server: Server, body: str) -> tuple[int, dict[str, str], bytes, float]:
    return request(server.port, "POST", CALLBACK_PATH, body, timeout=30.0)


def _plan(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    plan = []
    for name in args.configs:
        chosen = [w for w in args.workloads if w in configs.ALL[name].workloads]
        plan.append((name, chosen))
    return plan


def run(args: argparse.Namespace) -> dict[str, Any]:
    wrk_path = wrk.find_wrk()
    loops, cpu_ms = calibrate_cpu()
    env = {"BENCH_CPU_LOOPS": str(loops), "PYTHONUNBUFFERED": "1"}
    plan = _plan(args)
    total = args.reps * sum(len(w) for _, w in plan) * len(args.concurrency)
    log_dir = Path(tempfile.mkdtemp(prefix="dash-quart-bench-"))
    log = log_dir / "servers.log"
    log.touch()
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
        "servers": [],
        "runs": [],
    }
    print(
        f"dash-quart bench: {len(plan)} configs, {total} measurements of {args.duration:g} s, "
        f"{args.reps} reps; cpu callback = {loops} loops ({cpu_ms:.2f} ms here)",
        flush=True,
    )
    print(f"server logs: {log}", flush=True)
    step = 0
    for rep in range(1, args.reps + 1):
        shift = (rep - 1) % len(plan)
        for name, chosen in plan[shift:] + plan[:shift]:
            cfg = configs.ALL[name]
            offset = log.stat().st_size
            server = Server(cfg, log, env)
            record: dict[str, Any] = {"rep": rep, "config": name, "loadavg": loadavg()}
            try:
                boot = time.monotonic()
                server.start()
                record.update(
                    boot_s=round(time.monotonic() - boot, 2), pids=sorted(server.pids_seen)
                )
            except ServerError as error:
                record["error"] = str(error)
                result["servers"].append(record)
                print(f"  !! {name} rep {rep}: {error}", flush=True)
                for workload in chosen:
                    for c in args.concurrency:
                        step += 1
                        result["runs"].append(_failed(rep, name, workload, c, str(error)))
                continue
            try:
                for workload in chosen:
                    spec = WORKLOADS[workload]
                    url = f"http://127.0.0.1:{server.port}{CALLBACK_PATH}"
                    problem = _check_first(server, workload)
                    if problem is None and args.warmup > 0:
                        try:
                            wrk.run(url, spec.body(), spec.expected(), connections=8,
                                    duration=args.warmup, timeout=args.timeout)  # fmt: skip
                        except wrk.WrkError as error:
                            problem = f"warm-up failed: {error}"
                        server.quiesce()
                    for c in args.concurrency:
                        step += 1
                        label = f"[{step}/{total}] {name} {workload} c={c} rep {rep}"
                        if problem is not None:
                            print(f"{label} ... {problem}", flush=True)
                            result["runs"].append(_failed(rep, name, workload, c, problem))
                            continue
                        print(f"{label} ...", end=" ", flush=True)
                        try:
                            m = wrk.run(url, spec.body(), spec.expected(), connections=c,
                                        duration=args.duration, timeout=args.timeout)  # fmt: skip
                        except wrk.WrkError as error:
                            print(f"wrk failed: {error}", flush=True)
                            result["runs"].append(_failed(rep, name, workload, c, str(error)))
                            continue
                        drained = server.quiesce()
                        split = report._split(m.workers)
                        print(
                            f"{m.rps:,.0f} rps  p50 {m.p50_ms:.1f} ms  p99 {m.p99_ms:.1f} ms  "
                            f"errors {m.errors + m.bad_body}  split {split}",
                            flush=True,
                        )
                        result["runs"].append(
                            {
                                "rep": rep,
                                "config": name,
                                "workload": workload,
                                "c": c,
                                **m.to_json(),
                                "quiesce_s": round(drained, 2),
                            }  # fmt: skip
                        )
            finally:
                server.stop()
                record["log_problems"] = _log_problems(log, offset)
                result["servers"].append(record)
    result["machine"]["loadavg_at_end"] = loadavg()
    result["elapsed_s"] = round(time.time() - started, 1)
    result["server_log"] = str(log)
    result["medians"] = report.medians(result["runs"])
    result["ratios"] = report.ratios(result["medians"])
    result["targets"] = report.targets(result["medians"])
    return result


def _failed(rep: int, config: str, workload: str, c: int, error: str) -> dict[str, Any]:
    return {"rep": rep, "config": config, "workload": workload, "c": c, "error": error}


def save(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
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
    problems = [s for s in result["servers"] if s.get("error") or s.get("log_problems")]
    for server in problems:
        print(f"server {server['config']} rep {server['rep']}: "
              f"{server.get('error') or ''} {server.get('log_problems')}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
