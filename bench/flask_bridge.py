"""Cost of serving a Flask blueprint through dash_quart's bridge: ``python -m bench.flask_bridge``.

The three endpoints of ``apps/bridge_blueprint.py`` are served six ways: by a plain Flask
app on gunicorn gthread; through :func:`dash_quart.register_flask_blueprint` on a
Dash-on-Quart server under Hypercorn, without and with a Quart request hook (which makes
bridged requests run Quart's request cycle); as the equivalent native Quart blueprint on the
same Dash-on-Quart app; and by the plain Flask app on Hypercorn behind a minimal ASGI adapter
(the floor of any Flask host there) and behind asgiref's ``WsgiToAsgi``. Runs go as in
``bench.run`` (same session, servers, wrk script and
medians), at c=1 and c=50. Medians, ratios and the targets are printed and written with every
raw measurement to ``bench/results/<date>-flask-bridge.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from . import report, wrk
from .apps.bridge_blueprint import FORM, PAYLOAD, PREFIX, ROWS, summarise
from .configs import WORKERS, ServerConfig
from .machine import describe, loadavg, thread_hop_us, versions
from .run import RESULTS, Session, save

FLASK, BRIDGE, NATIVE = "flask_gthread", "bridge_hypercorn", "quart_native"
#: The bridge when the Quart app has a request hook, so that bridged requests run its cycle.
BRIDGE_HOOKED = "bridge_quart_hook_hypercorn"
#: The plain Flask app behind the least an ASGI server can do (``apps/bridge_floor.py``):
#: what any Flask host on Hypercorn costs at least; and behind asgiref's ``WsgiToAsgi``.
FLOOR, ASGIREF = "wsgi_floor_hypercorn", "asgiref_hypercorn"
CONCURRENCY = [1, 50]
#: The bridge's p50 at c=1 may be at most this multiple of plain Flask's.
P50_LIMIT = 1.5
#: The bridge's rps at c=50 must be at least this multiple of plain Flask's.
RPS_FLOOR = 0.8


@dataclass(frozen=True)
class Endpoint:
    """One endpoint's request, a marker wrk finds in each answer, and a full answer check."""

    name: str
    description: str
    method: str
    path: str
    payload: str | None
    content_type: str | None
    marker: str
    check: Callable[[bytes], bool]

    def body(self) -> str | None:
        return self.payload

    def expected(self) -> str:
        return self.marker

    def accepts(self, data: bytes) -> bool:
        return self.check(data)


def _json_equals(value: Any) -> Callable[[bytes], bool]:
    def check(data: bytes) -> bool:
        try:
            return bool(json.loads(data) == value)
        except ValueError:
            return False

    return check


def _is_table(data: bytes) -> bool:
    return data.count(b"<tr>") == len(ROWS) + 1 and str(ROWS[-1]["name"]).encode() in data


_JSON_BODY = json.dumps(PAYLOAD, separators=(",", ":"))

ENDPOINTS: dict[str, Endpoint] = {
    endpoint.name: endpoint
    for endpoint in (
        Endpoint(
            "json_echo",
            f"POST {len(_JSON_BODY)} bytes of JSON, answered back with jsonify",
            "POST",
            f"{PREFIX}/json",
            _JSON_BODY,
            wrk.JSON,
            str(PAYLOAD["id"]),
            _json_equals(PAYLOAD),
        ),
        Endpoint(
            "form_post",
            f"POST an urlencoded form of {len(FORM)} fields, answered with a JSON summary",
            "POST",
            f"{PREFIX}/form",
            urlencode(FORM),
            "application/x-www-form-urlencoded",
            FORM["name"],
            _json_equals(summarise(FORM)),
        ),
        Endpoint(
            "template",
            f"GET a Jinja template rendering a table of {len(ROWS)} rows",
            "GET",
            f"{PREFIX}/table",
            None,
            None,
            str(ROWS[-1]["name"]),
            _is_table,
        ),
    )
}

_DASH_APP = "bench.apps.bridge_dash:server"

CONFIGS: dict[str, ServerConfig] = {
    config.name: config
    for config in (
        ServerConfig(
            FLASK,
            "plain Flask app with the blueprint, gunicorn gthread, 2 workers x 8 threads",
            "bench.apps.bridge_flask:server",
            "gunicorn",
            "Flask",
            workloads=tuple(ENDPOINTS),
            info={"views": "flask"},
        ),
        ServerConfig(
            BRIDGE,
            "Dash on Quart, the Flask blueprint via register_flask_blueprint, hypercorn, 2 workers",
            _DASH_APP,
            "hypercorn",
            "QuartBackend",
            env={"BENCH_BRIDGE_VIEWS": "flask"},
            workloads=tuple(ENDPOINTS),
            info={"views": "flask"},
        ),
        ServerConfig(
            BRIDGE_HOOKED,
            "as bridge_hypercorn, and the Quart app has an after_request hook, so bridged"
            " requests go through Quart's request cycle",
            _DASH_APP,
            "hypercorn",
            "QuartBackend",
            env={"BENCH_BRIDGE_VIEWS": "flask", "BENCH_BRIDGE_QUART_HOOK": "1"},
            workloads=tuple(ENDPOINTS),
            info={"views": "flask"},
        ),
        ServerConfig(
            NATIVE,
            "Dash on Quart, the equivalent native Quart blueprint, hypercorn, 2 workers",
            _DASH_APP,
            "hypercorn",
            "QuartBackend",
            env={"BENCH_BRIDGE_VIEWS": "quart"},
            workloads=tuple(ENDPOINTS),
            info={"views": "quart"},
        ),
        ServerConfig(
            FLOOR,
            "the plain Flask app behind a minimal ASGI-to-WSGI adapter (no framework around it,"
            " views in a pool of dash_quart's default size), hypercorn, 2 workers",
            "bench.apps.bridge_floor:floor",
            "hypercorn",
            "Flask",
            workloads=tuple(ENDPOINTS),
            info={"views": "flask"},
        ),
        ServerConfig(
            ASGIREF,
            "the plain Flask app behind asgiref's WsgiToAsgi, hypercorn, 2 workers",
            "bench.apps.bridge_floor:asgiref",
            "hypercorn",
            "Flask",
            workloads=tuple(ENDPOINTS),
            info={"views": "flask"},
        ),
    )
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.flask_bridge",
        description="Flask blueprints through dash_quart's bridge, against Flask and Quart.",
    )
    add = parser.add_argument
    add("--duration", type=float, default=5.0, help="seconds per measurement (default 5)")
    add("--reps", type=int, default=3, help="repetitions; medians are reported (default 3)")
    add("--quick", action="store_true", help="smoke run: 1 rep of 2 s")
    parser.set_defaults(concurrency=CONCURRENCY, warmup=1.0, timeout=10.0)
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.duration = 1, 2.0
    if args.reps < 1 or args.duration < 1:
        parser.error("--reps and --duration must be at least 1")
    return args


def _ratio(mine: float | None, other: float | None) -> float | None:
    return round(mine / other, 2) if mine is not None and other else None


def _value(rows: list[dict[str, Any]], config: str, endpoint: str, c: int, key: str) -> Any:
    row = report.find(rows, config, endpoint, c)
    return None if row is None else row[key]


#: The ratios reported for each endpoint, as ``name: (config, config divided by)``.
PAIRS = {
    "bridge/flask": (BRIDGE, FLASK),
    "hooked/flask": (BRIDGE_HOOKED, FLASK),
    "bridge/native": (BRIDGE, NATIVE),
    "native/flask": (NATIVE, FLASK),
    "floor/flask": (FLOOR, FLASK),
    "asgiref/flask": (ASGIREF, FLASK),
}


def _pairs(values: dict[str, Any]) -> dict[str, float | None]:
    return {name: _ratio(values.get(a), values.get(b)) for name, (a, b) in PAIRS.items()}


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per endpoint: p50 at c=1 and rps at c=50 of each config against the others."""
    out = []
    for endpoint in ENDPOINTS:
        p50 = {name: _value(rows, name, endpoint, 1, "p50_ms") for name in CONFIGS}
        rps = {name: _value(rows, name, endpoint, 50, "rps") for name in CONFIGS}
        out.append(
            {
                "endpoint": endpoint,
                "p50_c1": _pairs(p50),
                "rps_c50": _pairs(rps),
            }
        )
    return out


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for endpoint in ENDPOINTS:
        for key, c, unit, limit, text in (
            ("p50_ms", 1, "ms", P50_LIMIT, f"bridge p50 at c=1 <= {P50_LIMIT}x {FLASK}"),
            ("rps", 50, "rps", RPS_FLOOR, f"bridge rps at c=50 >= {RPS_FLOOR}x {FLASK}"),
        ):
            mine = _value(rows, BRIDGE, endpoint, c, key)
            other = _value(rows, FLASK, endpoint, c, key)
            ratio = _ratio(mine, other)
            floor = _ratio(_value(rows, FLOOR, endpoint, c, key), other)
            met = ratio is not None and (ratio <= limit if key == "p50_ms" else ratio >= limit)
            out.append(
                {
                    "target": f"{endpoint}: {text}",
                    "bridge": mine,
                    FLASK: other,
                    "unit": unit,
                    "ratio": ratio,
                    "floor_ratio": floor,
                    "result": "n/a" if ratio is None else "PASS" if met else "MISS",
                }
            )
    return out


def ratio_table(entries: list[dict[str, Any]]) -> str:
    header = ["endpoint", *(f"p50 c=1 {p}" for p in PAIRS), *(f"rps c=50 {p}" for p in PAIRS)]
    lines = []
    for e in entries:
        cells = [e[metric].get(pair) for metric in ("p50_c1", "rps_c50") for pair in PAIRS]
        lines.append([e["endpoint"], *("n/a" if x is None else f"x{x:.2f}" for x in cells)])
    return report.table(header, lines, right=set(range(1, len(header))))


def target_lines(entries: list[dict[str, Any]]) -> str:
    lines = []
    for e in entries:
        if e["ratio"] is None:
            lines.append(f"{e['result']:<4}  {e['target']}  (not measured)")
            continue
        digits = 2 if e["unit"] == "ms" else 0
        floor = e.get("floor_ratio")
        lines.append(
            f"{e['result']:<4}  {e['target']}  ({e['bridge']:,.{digits}f} / "
            f"{e[FLASK]:,.{digits}f} {e['unit']} = x{e['ratio']:.2f}"
            + ("" if floor is None else f"; {FLOOR}: x{floor:.2f}")
            + ")"
        )
    return "\n".join(lines)


def render(result: dict[str, Any]) -> str:
    hops = result.get("thread_hop_us")
    return "\n\n".join(
        [
            report.results_table(result["medians"], {}),
            *(
                ["idle thread hop, µs, before each rep and at the end: "
                 + " / ".join(f"{hop:.0f}" for hop in hops)]  # fmt: skip
                if hops
                else []
            ),
            ratio_table(result["ratios"]),
            target_lines(result["targets"]),
        ]
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    wrk_path = wrk.find_wrk()
    log = Path(tempfile.mkdtemp(prefix="dash-quart-bridge-bench-")) / "servers.log"
    log.touch()
    names = list(CONFIGS)
    session = Session(
        args,
        env={"PYTHONUNBUFFERED": "1"},
        log=log,
        total=args.reps * len(names) * len(ENDPOINTS) * len(args.concurrency),
        server_configs=CONFIGS,
        workloads=ENDPOINTS,
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
            "workers_per_server": WORKERS,
            "p50_limit": P50_LIMIT,
            "rps_floor": RPS_FLOOR,
            "quick": args.quick,
        },
        "configs": {
            name: {"description": cfg.description, "command": cfg.command, "env": cfg.env}
            for name, cfg in CONFIGS.items()
        },
        "endpoints": {
            name: {"description": e.description, "method": e.method, "path": e.path}
            for name, e in ENDPOINTS.items()
        },
    }
    print(
        f"flask bridge bench: {len(names)} configs, {session.total} measurements of "
        f"{args.duration:g} s, {args.reps} reps\nserver logs: {log}",
        flush=True,
    )
    hops: list[float] = []
    for rep in range(1, args.reps + 1):
        hops.append(thread_hop_us())
        print(f"rep {rep}: idle thread hop {hops[-1]:.0f} µs", flush=True)
        shift = (rep - 1) % len(names)
        for name in names[shift:] + names[:shift]:
            session.serve(rep, name, list(ENDPOINTS))
    hops.append(thread_hop_us())
    result["machine"]["loadavg_at_end"] = loadavg()
    result["thread_hop_us"] = hops
    result["elapsed_s"] = round(time.time() - started, 1)
    result["server_log"] = str(log)
    result["servers"] = session.servers
    result["runs"] = session.runs
    result["medians"] = report.medians(session.runs)
    result["ratios"] = ratios(result["medians"])
    result["targets"] = targets(result["medians"])
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = run(args)
    except wrk.WrkError as error:
        print(error, file=sys.stderr)
        return 1
    suffix = "-quick" if args.quick else ""
    path = RESULTS / f"{result['date']}-flask-bridge{suffix}.json"
    save(result, path)
    print()
    print(render(result))
    print(f"\nresults: {path}  ({result['elapsed_s'] / 60:.1f} min)")
    for server in result["servers"]:
        if server.get("error") or server.get("log_problems"):
            print(f"server {server['config']} rep {server['rep']}: "
                  f"{server.get('error', '')} {server.get('log_problems')}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
