"""Server-sent events side by side: ``python -m bench.sse``.

Two tests, each server one worker process on 127.0.0.1:

* **idle**: hold 1k, 5k and 10k streams that only ping; measure the worker's RSS before
  and with them, RSS per stream, and its CPU while they are held.
* **fanout**: N clients on one channel while the server publishes 20 events a second for
  10 s; measure delivery latency (receive time minus the publish time in the data) and the
  share of events delivered, through dash_quart's memory and Redis backends and through
  sse-starlette with an in-process queue fan-out.

Configurations rotate between repetitions; medians are printed with the two targets and
written with every raw measurement to ``bench/results/<date>-sse.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from ..machine import describe, loadavg, versions
from ..run import RESULTS, save
from ..server import ServerError
from . import measure, report, servers
from .clients import MeasureError
from .host import extra_versions, other_benchmarks, raise_open_files, source_state
from .measure import Options

TESTS = ("idle", "fanout")


def _ints(text: str) -> list[int]:
    values = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("give positive integers, comma separated")
    return values


def _cpus(text: str) -> tuple[int, ...]:
    """``0``, ``0-3`` or ``0,2``: CPUs that exist here, leaving at least one for the clients."""
    found: set[int] = set()
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            first, _, last = part.partition("-")
            found.update(range(int(first), int(last or first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError("give CPUs as 0, 0-3 or 0,2") from None
    usable = os.sched_getaffinity(0)
    if not found or not found <= usable or found == usable:
        raise argparse.ArgumentTypeError(
            f"choose some, not all, of the CPUs {sorted(usable)}, so that the clients keep one"
        )
    return tuple(sorted(found))


def _names(choices: tuple[str, ...]) -> Any:
    def parse(text: str) -> list[str]:
        values = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [v for v in values if v not in choices]
        if unknown or not values:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}")
        return values

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sse", description="Server-sent events: dash_quart vs sse-starlette."
    )
    add = parser.add_argument
    add("--tests", type=_names(TESTS), default=list(TESTS), help="idle,fanout")
    add("--configs", type=_names(tuple(servers.ALL)), default=list(servers.DEFAULT),
        help="comma list of " + ", ".join(servers.ALL) + " (default " + ",".join(servers.DEFAULT)
        + "; idle runs only " + ", ".join(servers.IDLE) + ")")  # fmt: skip
    add("--sizes", type=_ints, help="idle streams, comma list (default 1000,5000,10000)")
    add("--clients", type=_ints, help="fan-out clients, comma list (default 100,1000,5000)")
    add("--reps", type=int, default=3, help="repetitions; medians are reported (default 3)")
    add("--reps-largest", type=int, default=3, help="repetitions of the largest size of "
        "each test (default 3; 1 saves about 8 minutes)")  # fmt: skip
    add("--rate", type=float, default=20.0, help="events published a second (default 20)")
    add("--seconds", type=float, default=10.0, help="seconds of publishing (default 10)")
    add("--grace", type=float, default=5.0, help="seconds clients keep reading after (5)")
    add("--idle-seconds", type=float, default=5.0, help="idle CPU window (default 5)")
    add("--client-procs", type=int, default=4, help="fan-out client processes (default 4)")
    add("--batch", type=int, default=500, help="connections opened at once (default 500)")
    add(
        "--primer",
        action="store_true",
        help="hold one subscriber open before the fan-out "
        "clients connect, so that they do not all subscribe to an idle channel at once",
    )
    add("--server-cpus", type=_cpus, default=(), help="run the server (and Redis) on these "
        "CPUs, e.g. 0 or 0-3, and the clients on the others (default: all on all)")  # fmt: skip
    add("--quick", action="store_true", help="smoke run: small sizes, 1 rep, 3 s publishing")
    add("--output", type=Path, help="results file (default bench/results/<date>-sse.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.seconds = 1, 3.0
    args.sizes = args.sizes or ([100, 500] if args.quick else [1000, 5000, 10000])
    args.clients = args.clients or ([20, 200] if args.quick else [100, 1000, 5000])
    args.reps_largest = min(args.reps_largest, args.reps)
    if args.reps < 1 or args.reps_largest < 1 or args.client_procs < 1 or args.batch < 1:
        parser.error("--reps, --reps-largest, --client-procs and --batch must be at least 1")
    if not 0 < args.rate * args.seconds <= 10_000 or args.grace < 0:
        parser.error("publish between 1 and 10,000 events, with a grace of 0 s or more")
    return args


@contextmanager
def _redis(needed: bool) -> Iterator[tuple[str, int] | None]:
    if not needed:
        yield None
        return
    with servers.redis_server() as found:
        yield found


class Session:
    """Progress and records of one run."""

    def __init__(self, args: argparse.Namespace, log: Path, opts: Options, total: int) -> None:
        self.args, self.log, self.opts, self.total = args, log, opts, total
        self.step = 0
        self.runs: list[dict[str, Any]] = []

    def label(self, test: str, config: str, n: int, rep: int) -> str:
        self.step += 1
        return f"[{self.step}/{self.total}] {test} {config} n={n:,} rep {rep}"

    def sizes(self, sizes: list[int], rep: int) -> list[int]:
        return [n for n in sizes if n != sizes[-1] or rep <= self.args.reps_largest]

    def env(self, config: servers.SseServer, redis: tuple[str, int] | None) -> dict[str, str]:
        url = redis[0] if redis and config.broadcast == "redis" else ""
        return {"PYTHONUNBUFFERED": "1", "BENCH_SSE_REDIS_URL": url}

    def measure(
        self, test: str, configs: list[str], rep: int, redis: tuple[str, int] | None
    ) -> None:
        """Each size of ``test`` for each of ``configs``, every one on a fresh server."""
        sizes = self.args.sizes if test == "idle" else self.args.clients
        for name in configs:
            config = servers.ALL[name]
            env = self.env(config, redis)
            for n in self.sizes(sizes, rep):
                print(f"{self.label(test, name, n, rep)} ...", end=" ", flush=True)
                base = {"test": test, "config": name, "n": n, "rep": rep, "loadavg": loadavg()}
                try:
                    if test == "idle":
                        record = measure.idle(config, n, self.opts, self.log, env)
                    else:
                        found = redis if config.broadcast == "redis" else None
                        record = measure.fanout(config, n, self.opts, self.log, env, found)
                except (ServerError, MeasureError, OSError) as error:
                    print(f"failed: {error}", flush=True)
                    self.runs.append({**base, "error": str(error)})
                    continue
                summary = idle_summary if test == "idle" else fanout_summary
                print(summary(record), flush=True)
                self.runs.append({**base, **record})


def idle_summary(r: dict[str, Any]) -> str:
    return (
        f"{r['connected']:,} connected in {r['connect_s']:.1f} s, server counts "
        f"{r['server_clients']:,}; RSS {r['rss_before_kib'] / 1024:,.0f} -> "
        f"{r['rss_with_kib'] / 1024:,.0f} MiB ({r['rss_per_conn_kib']} KiB/stream), idle CPU "
        f"{r['idle_cpu_pct']:.2f}%, {r['server_clients_after_close']} left after close"
        + (f", errors {r['connect_errors']}" if r["connect_errors"] else "")
    )


def fanout_summary(r: dict[str, Any]) -> str:
    frac = r.get("delivered_frac")
    return (
        f"{r['connected']:,} connected; p50 {r.get('p50_ms')} ms p99 {r.get('p99_ms')} ms, "
        f"delivered {'-' if frac is None else f'{100 * frac:.2f}%'}, "
        f"{r.get('deliveries_per_s')}/s; server CPU {r['server_cpu_pct']}%, client CPU "
        f"{r['client_cpu_pct']}%, publish lag max {r['publisher']['lag_ms_max']} ms"
        + (
            f", redis connections {r['redis_connections']} with clients, "
            f"{r['redis_connections_after_close']} after"
            if "redis_connections" in r
            else ""
        )
        + (f", dropped {r['dropped']}" if r["dropped"] else "")
        + (f", publisher failed: {r['publisher']['error']}" if r["publisher"]["error"] else "")
        + (f", errors {r['connect_errors']}" if r["connect_errors"] else "")
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    largest = max([*args.sizes, *args.clients])
    limits = raise_open_files(largest + 4096)
    if limits[0] < largest + 256:
        raise SystemExit(f"RLIMIT_NOFILE is {limits[0]}; {largest:,} connections need more")
    busy = other_benchmarks()
    if busy:
        print("warning: another benchmark is running:\n  " + "\n  ".join(busy), flush=True)
    opts = Options(rate=args.rate, seconds=args.seconds, grace=args.grace,
                   idle_seconds=args.idle_seconds, client_procs=args.client_procs,
                   batch=args.batch, primer=args.primer,
                   server_cpus=args.server_cpus)  # fmt: skip
    idle_configs = [c for c in args.configs if c in servers.IDLE] if "idle" in args.tests else []
    fanout_configs = list(args.configs) if "fanout" in args.tests else []
    log = Path(tempfile.mkdtemp(prefix="dash-quart-bench-sse-")) / "servers.log"
    log.touch()
    session = Session(args, log, opts, 0)
    session.total = sum(
        len(configs) * len(session.sizes(sizes, rep))
        for rep in range(1, args.reps + 1)
        for configs, sizes in ((idle_configs, args.sizes), (fanout_configs, args.clients))
    )
    total = session.total
    started = time.time()
    wrk = shutil.which("wrk") or "true"
    result: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {**describe(wrk), "open_files_limit": list(limits)},
        "versions": {**versions(), **extra_versions()},
        "source_at_start": source_state(),
        "parameters": {
            "tests": args.tests,
            "idle_sizes": args.sizes,
            "fanout_clients": args.clients,
            "reps": args.reps,
            "reps_largest": args.reps_largest,
            "quick": args.quick,
            **vars(opts),
            "ping_s": 15,
            "gc_threshold_env": os.environ.get("BENCH_SSE_GC_THRESHOLD"),
            "other_benchmarks_at_start": busy,
        },
        "configs": {
            name: {"description": cfg.description, "command": cfg.command, "env": cfg.env}
            for name, cfg in servers.ALL.items()
            if name in args.configs
        },
    }
    print(
        f"dash-quart SSE bench: {total} measurements, {args.reps} reps "
        f"({args.reps_largest} for the largest size); open files limit {limits[0]:,}\n"
        f"server logs: {log}",
        flush=True,
    )
    if args.server_cpus:  # the clients, started from here, run on the other CPUs
        os.sched_setaffinity(0, os.sched_getaffinity(0) - set(args.server_cpus))
    needs_redis = any(servers.ALL[c].broadcast == "redis" for c in fanout_configs)
    with ExitStack() as stack:
        with measure.pinned(args.server_cpus):
            redis = stack.enter_context(_redis(needs_redis))
        if redis:
            result["redis_url"] = servers.public(redis[0])
        for test, configs in (("idle", idle_configs), ("fanout", fanout_configs)):
            for rep in range(1, args.reps + 1):
                shift = (rep - 1) % max(1, len(configs))
                session.measure(test, configs[shift:] + configs[:shift], rep, redis)
    result["machine"]["loadavg_at_end"] = loadavg()
    result["source_at_end"] = source_state()
    result["elapsed_s"] = round(time.time() - started, 1)
    result["server_log"] = str(log)
    result["runs"] = session.runs
    result["idle"] = report.idle_medians(session.runs)
    result["fanout"] = report.fanout_medians(session.runs)
    result["targets"] = report.targets(result["idle"], result["fanout"])
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    suffix = "-sse-quick" if args.quick else "-sse"
    path = args.output or RESULTS / f"{result['date']}{suffix}.json"
    save(result, path)
    print()
    print(report.render(result))
    print(f"\nresults: {path}  ({result['elapsed_s'] / 60:.1f} min)")
    for line in session_problems(result):
        print(line)
    return 0


def session_problems(result: dict[str, Any]) -> list[str]:
    """Failed measurements and server log lines worth a look."""
    lines = []
    for run in result["runs"]:
        where = f"{run['test']} {run['config']} n={run['n']:,} rep {run['rep']}"
        if run.get("error"):
            lines.append(f"{where}: {run['error']}")
        elif run.get("log_problems"):
            shown = "\n    ".join(run["log_problems"][:5])
            lines.append(f"{where}: {run['log_problem_lines']} log lines, e.g.\n    {shown}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
