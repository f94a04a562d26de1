"""Tables and target lines of the caching benchmark.

``python -m bench.caching.report bench/results/<date>-caching.json`` prints a saved run's
tables again.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

from .. import report

#: A cache hit on Redis over loopback must take at most this long (p50, microseconds).
REDIS_HIT_P50_US = 1000.0
#: Backends on which concurrent misses must compute exactly once, in one process.
SINGLE_FLIGHT_BACKENDS = ("simple", "redis")

LIBRARY_NAMES = {"ours": "dash-quart-caching", "flask_caching": "Flask-Caching"}


def _ratio(mine: float | None, other: float | None) -> str:
    return "n/a" if mine is None or not other else f"x{mine / other:.2f}"


def _latency(rows: list[dict[str, Any]], backend: str, op: str, library: str) -> Any:
    for row in rows:
        if (row["backend"], row["operation"], row["library"]) == (backend, op, library):
            return row
    return None


def latency_table(rows: list[dict[str, Any]]) -> str:
    """Per backend and operation: p50 and p99 of both libraries and ours / Flask-Caching."""
    header = [
        "backend",
        "operation",
        "ours p50 us",
        "F-C p50 us",
        "p50 ratio",
        "ours p99 us",
        "F-C p99 us",
        "p99 ratio",
    ]
    lines = []
    for backend, op in dict.fromkeys((r["backend"], r["operation"]) for r in rows):
        ours = _latency(rows, backend, op, "ours")
        upstream = _latency(rows, backend, op, "flask_caching")
        cells = [backend, op]
        for key in ("p50_us", "p99_us"):
            mine = ours[key] if ours else None
            other = upstream[key] if upstream else None
            cells += [
                "-" if mine is None else f"{mine:,.1f}",
                "-" if other is None else f"{other:,.1f}",
                _ratio(mine, other),
            ]
        lines.append(cells)
    return report.table(header, lines, right=set(range(2, 8)))


def flight_summary(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (backend, library, setup): computations of each rep, median wall time."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["backend"], run["library"], run["setup"]), []).append(run)
    return [
        {
            "backend": backend,
            "library": library,
            "setup": setup,
            "calls": group[0]["calls"],
            "computations": [run["computations"] for run in group],
            "wall_s": round(statistics.median(run["wall_s"] for run in group), 3),
            "correct": all(run["correct"] for run in group),
        }
        for (backend, library, setup), group in groups.items()
    ]


def flight_table(rows: list[dict[str, Any]]) -> str:
    header = [
        "backend",
        "library",
        "concurrent misses",
        "calls",
        "computations per rep",
        "wall s",
        "values",
    ]
    lines = [
        [
            row["backend"],
            LIBRARY_NAMES[row["library"]],
            row["setup"],
            str(row["calls"]),
            " ".join(map(str, row["computations"])),
            f"{row['wall_s']:.3f}",
            "ok" if row["correct"] else "WRONG",
        ]
        for row in rows
    ]
    return report.table(header, lines, right={3, 5})


def throughput_ratio_table(entries: list[dict[str, Any]]) -> str:
    header = ["config", "c", "rps vs uncached", "p50 vs uncached", "p99 vs uncached"]
    lines = [
        [e["config"], str(e["c"]), f"x{e['rps']:.2f}", f"x{e['p50']:.2f}", f"x{e['p99']:.2f}"]
        for e in entries
    ]
    return report.table(header, lines, right={1, 2, 3, 4})


def targets(
    latency_rows: list[dict[str, Any]], flights: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    out = []
    hit = _latency(latency_rows, "redis", "get_hit", "ours")
    upstream = _latency(latency_rows, "redis", "get_hit", "flask_caching")
    if hit is None:
        out.append(
            {
                "target": "Redis hit p50 <= 1 ms on loopback",
                "result": "n/a",
                "detail": "not measured",
            }
        )
    else:
        detail = f"ours {hit['p50_us']:,.1f} us"
        if upstream is not None:
            detail += f", Flask-Caching {upstream['p50_us']:,.1f} us"
        met = hit["p50_us"] <= REDIS_HIT_P50_US
        out.append(
            {
                "target": "Redis hit p50 <= 1 ms on loopback",
                "result": "PASS" if met else "MISS",
                "detail": detail,
            }
        )
    in_process = [
        row
        for row in flights
        if row["library"] == "ours"
        and row["setup"] == "1 process"
        and row["backend"] in SINGLE_FLIGHT_BACKENDS
    ]
    across = [row for row in flights if row["library"] == "ours" and row["setup"] != "1 process"]
    for label, rows in (("", in_process), (" across processes (Redis)", across)):
        text = f"100 concurrent misses{label} -> 1 computation"
        if not rows:
            out.append({"target": text, "result": "n/a", "detail": "not measured"})
            continue
        met = all(set(row["computations"]) == {1} and row["correct"] for row in rows)
        detail = "; ".join(
            f"{row['backend']} {row['setup']}: {' '.join(map(str, row['computations']))}"
            for row in rows
        )
        out.append({"target": text, "result": "PASS" if met else "MISS", "detail": detail})
    return out


def target_lines(entries: list[dict[str, Any]]) -> str:
    return "\n".join(f"{e['result']:<4}  {e['target']}  ({e['detail']})" for e in entries)


def render(result: dict[str, Any]) -> str:
    sizes = result["parameters"]["value_bytes"]
    parts = [
        f"Cache API latency, in process ({result['parameters']['calls']} calls per operation; "
        f"small value {sizes['small']} B, 10k value {sizes['10k']:,} B pickled; "
        "F-C = Flask-Caching; ratio = ours / Flask-Caching)",
        latency_table(result["latency"]["medians"]),
        "Concurrent misses of one memoized function "
        f"({result['parameters']['flight_delay_s']} s each)",
        flight_table(result["single_flight"]["summary"]),
    ]
    throughput = result.get("throughput")
    if throughput:
        parts += [
            "Memoized async Dash callback under wrk (hypercorn -w 2)",
            report.results_table(throughput["medians"], {}),
            throughput_ratio_table(throughput["ratios"]),
        ]
    parts.append(target_lines(result["targets"]))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(
            "usage: python -m bench.caching.report bench/results/<date>-caching.json",
            file=sys.stderr,
        )
        return 2
    print(render(json.loads(Path(args[0]).read_text())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
