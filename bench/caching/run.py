"""dash-quart-caching side by side with Flask-Caching: ``python -m bench.caching``.

Three parts, in one run, against one throw-away ``redis-server`` that the run starts:

* **latency**: per-call p50 and p99 of ``get`` hits (a small value and a 10 KB one), misses
  and memoized-function hits, on SimpleCache, FileSystemCache and RedisCache of each library;
* **single-flight**: how often a slow memoized function runs for 100 concurrent misses;
* **throughput**: a memoized ``async def`` Dash callback under wrk at c=50 (and c=1),
  against the same callback uncached.

Medians, ratios and targets are printed and written with every repetition's figures to
``bench/results/<date>-caching.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import wrk
from ..machine import describe, loadavg, versions
from ..run import RESULTS, save
from . import flights, latency, redis_server, report, throughput

PACKAGES = ("dash-quart-caching", "flask-caching", "cachelib", "redis", "aiofiles")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.caching",
        description="dash-quart-caching against Flask-Caching on the same backends.",
    )
    add = parser.add_argument
    add("--reps", type=int, default=3, help="repetitions; medians are reported (default 3)")
    add("--calls", type=int, default=2000, help="timed calls per operation (default 2000)")
    add("--duration", type=float, default=5.0, help="seconds per wrk measurement (default 5)")
    add("--quick", action="store_true", help="smoke run: 1 rep, 500 calls, 2 s of wrk")
    add("--output", type=Path, help="results file (default bench/results/<date>-caching.json)")
    parser.set_defaults(
        concurrency=throughput.CONCURRENCY,
        warmup=1.0,
        timeout=10.0,
        warmup_calls=200,
        flight_calls=100,
        flight_delay=0.2,
        flight_processes=4,
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.calls, args.duration = 1, 500, 2.0
    if args.reps < 1 or args.calls < 100 or args.duration < 1:
        parser.error("--reps must be at least 1, --calls 100 and --duration 1")
    return args


def _versions() -> dict[str, str | None]:
    found = versions()
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["redis-server"] = redis_server.version()
    return found


def _latency(args: argparse.Namespace, redis_url: str) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    for rep in range(1, args.reps + 1):
        libraries = latency.LIBRARIES if rep % 2 else latency.LIBRARIES[::-1]
        for backend in latency.BACKENDS:
            for library in libraries:
                print(
                    f"[latency rep {rep}/{args.reps}] {backend:<10} {library:<13}",
                    end=" ",
                    flush=True,
                )
                ops = latency.measure(
                    backend, library, n=args.calls, warmup=args.warmup_calls, redis_url=redis_url
                )
                print(
                    "  ".join(
                        f"{op} {s['p50_us']:,.1f}/{s['p99_us']:,.1f}" for op, s in ops.items()
                    ),
                    "us p50/p99",
                    flush=True,
                )
                runs.append({"rep": rep, "backend": backend, "library": library, "ops": ops})
    return {"runs": runs, "medians": latency.medians(runs)}


def _single_flight(args: argparse.Namespace, redis_url: str) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    options = {"concurrent": args.flight_calls, "delay": args.flight_delay}
    setups = {"ours": "1 process", "flask_caching": f"{args.flight_calls} threads"}
    for rep in range(1, args.reps + 1):
        for backend in latency.BACKENDS:
            for library, measure in (("ours", flights.ours), ("flask_caching", flights.upstream)):
                outcome = measure(backend, redis_url=redis_url, **options)
                runs.append(
                    {
                        "rep": rep,
                        "backend": backend,
                        "library": library,
                        "setup": setups[library],
                        **outcome,
                    }
                )
                _print_flight(rep, args.reps, runs[-1])
        per_process = args.flight_calls // args.flight_processes
        outcome = flights.across_processes(
            processes=args.flight_processes,
            concurrent=per_process,
            delay=args.flight_delay,
            redis_url=redis_url,
        )
        setup = f"{args.flight_processes} processes x {per_process}"
        runs.append({"rep": rep, "backend": "redis", "library": "ours", "setup": setup, **outcome})
        _print_flight(rep, args.reps, runs[-1])
    return {"runs": runs, "summary": report.flight_summary(runs)}


def _print_flight(rep: int, reps: int, run: dict[str, Any]) -> None:
    print(
        f"[single-flight rep {rep}/{reps}] {run['backend']:<10} {run['library']:<13} "
        f"{run['setup']}: {run['calls']} calls, {run['computations']} computations, "
        f"{run['wall_s']:.3f} s{'' if run['correct'] else ', WRONG VALUES'}",
        flush=True,
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    wrk_path = wrk.find_wrk()
    log = Path(tempfile.mkdtemp(prefix="dash-quart-caching-bench-")) / "servers.log"
    log.touch()
    started = time.time()
    result: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": describe(wrk_path),
        "versions": _versions(),
        "parameters": {
            "reps": args.reps,
            "calls": args.calls,
            "warmup_calls": args.warmup_calls,
            "value_bytes": latency.VALUE_BYTES,
            "operations": latency.DESCRIPTIONS,
            "redis_server": "--save '' --appendonly no, 127.0.0.1",
            "flight_calls": args.flight_calls,
            "flight_delay_s": args.flight_delay,
            "flight_processes": args.flight_processes,
            "wrk_duration_s": args.duration,
            "wrk_warmup_s": args.warmup,
            "wrk_timeout_s": args.timeout,
            "concurrency": args.concurrency,
            "quick": args.quick,
        },
    }
    print(
        f"caching bench: {args.reps} reps; {args.calls} calls per operation; "
        f"{len(throughput.MODES) * len(args.concurrency) * args.reps} wrk measurements of "
        f"{args.duration:g} s\n"
        f"server logs: {log}",
        flush=True,
    )
    with redis_server.redis_server() as redis_url:
        result["latency"] = _latency(args, redis_url)
        result["single_flight"] = _single_flight(args, redis_url)
        flights.flush(f"{redis_url}/{throughput.REDIS_DB}")
        result["throughput"] = throughput.run(args, redis_url, log)
    result["machine"]["loadavg_at_end"] = loadavg()
    result["elapsed_s"] = round(time.time() - started, 1)
    result["server_log"] = str(log)
    result["targets"] = report.targets(
        result["latency"]["medians"], result["single_flight"]["summary"]
    )
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = run(args)
    except (wrk.WrkError, redis_server.RedisError) as error:
        print(error, file=sys.stderr)
        return 1
    suffix = "-quick" if args.quick else ""
    path = args.output or RESULTS / f"{result['date']}-caching{suffix}.json"
    save(result, path)
    print()
    print(report.render(result))
    print(f"\nresults: {path}  ({result['elapsed_s'] / 60:.1f} min)")
    for server in result["throughput"]["servers"]:
        if server.get("error") or server.get("log_problems"):
            print(
                f"server {server['config']} rep {server['rep']}: "
                f"{server.get('error', '')} {server.get('log_problems')}"
            )
    return 0
