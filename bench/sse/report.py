"""Summarise SSE runs: medians per (config, size), tables and the two targets.

``python -m bench.sse.report bench/results/<date>-sse.json`` prints a saved run again.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..report import table

GIB_KIB = 1024 * 1024
RSS_TARGET = ("dash_quart_memory", 10_000)
FANOUT_TARGET = (("dash_quart_memory", "dash_quart_redis", "dash_quart_redis_2w"), 5_000, 100.0)
SATURATED_PCT = 90.0


def _median(values: Iterable[float | None], digits: int = 2) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), digits) if present else None


def _groups(runs: Iterable[dict[str, Any]], test: str) -> dict[tuple[str, int], list[Any]]:
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for run in runs:
        if run["test"] == test:
            groups.setdefault((run["config"], run["n"]), []).append(run)
    return groups


def idle_medians(runs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for (config, n), group in _groups(runs, "idle").items():
        ok = [run for run in group if "error" not in run]

        def med(key: str, ok: list[dict[str, Any]] = ok) -> float | None:
            return _median(run.get(key) for run in ok)

        rows.append(
            {
                "config": config,
                "n": n,
                "reps": len(ok),
                "failed_reps": len(group) - len(ok),
                "errors": sorted({run["error"] for run in group if "error" in run}),
                "all_connected": bool(ok) and all(_all_idle(run, n) for run in ok),
                "connected_min": min((run["connected"] for run in ok), default=0),
                "rss_before_mib": _mib(med("rss_before_kib")),
                "rss_with_mib": _mib(med("rss_with_kib")),
                "rss_with_max_mib": _mib(max((run["rss_with_kib"] for run in ok), default=None)),
                "rss_after_mib": _mib(med("rss_after_kib")),
                "rss_per_conn_kib": med("rss_per_conn_kib"),
                "idle_cpu_pct": med("idle_cpu_pct"),
                "connect_s": med("connect_s"),
                "close_s": med("close_s"),
                "left_after_close": max(
                    (run["server_clients_after_close"] for run in ok), default=None
                ),
                "dropped": sum(run["dropped"] for run in ok),
                "log_problem_lines": sum(run["log_problem_lines"] for run in ok),
            }
        )
    return rows


def _all_idle(run: dict[str, Any], n: int) -> bool:
    return bool(
        run["connected"] == n and run["server_clients"] == n and not run["dropped"]
        and not run["connect_errors"]
    )  # fmt: skip


def _mib(kib: float | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def fanout_medians(runs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for (config, n), group in _groups(runs, "fanout").items():
        ok = [run for run in group if "error" not in run]

        def med(key: str, ok: list[dict[str, Any]] = ok) -> float | None:
            return _median(run.get(key) for run in ok)

        rows.append(
            {
                "config": config,
                "n": n,
                "reps": len(ok),
                "failed_reps": len(group) - len(ok),
                "errors": sorted({run["error"] for run in group if "error" in run}),
                "all_connected": bool(ok)
                and all(run["connected"] == n and run["server_clients"] == n for run in ok),
                "p50_ms": med("p50_ms"),
                "p99_ms": med("p99_ms"),
                "p99_all_ms": _finite(
                    _median(
                        float("inf") if run.get("p99_all_ms") is None else run["p99_all_ms"]
                        for run in ok
                    )
                ),
                "max_ms": med("max_ms"),
                "delivered_frac": _median((run.get("delivered_frac") for run in ok), 5),
                "deliveries_per_s": _median((run.get("deliveries_per_s") for run in ok), 0),
                "server_cpu_pct": med("server_cpu_pct"),
                "redis_cpu_pct": med("redis_cpu_pct"),
                "client_cpu_max_pct": _median(
                    max(run["client_cpu_pct"], default=None) for run in ok
                ),
                "publish_lag_max_ms": _median(run["publisher"]["lag_ms_max"] for run in ok),
                "dropped": sum(run["dropped"] for run in ok),
                "left_after_close": max(
                    (run["server_clients_after_close"] for run in ok), default=None
                ),
                "log_problem_lines": sum(run["log_problem_lines"] for run in ok),
                "subscribed_min": min((run["server_clients"] for run in ok), default=0),
                "publisher_errors": sorted(
                    {run["publisher"]["error"] for run in ok if run["publisher"]["error"]}
                ),
                "redis_connections": _most(ok, "redis_connections"),
                "redis_connections_after_close": _most(ok, "redis_connections_after_close"),
            }
        )
    return rows


def _most(runs: list[dict[str, Any]], key: str) -> int | None:
    return max((run[key] for run in runs if run.get(key) is not None), default=None)


def _finite(value: float | None) -> float | None:
    return None if value is None or value == float("inf") else value


def _find(rows: list[dict[str, Any]], config: str, n: int) -> dict[str, Any] | None:
    return next((r for r in rows if (r["config"], r["n"]) == (config, n)), None)


def _failed(row: dict[str, Any]) -> str:
    return f"no repetition completed: {'; '.join(row['errors'])}"


def targets(idle: list[dict[str, Any]], fanout: list[dict[str, Any]]) -> list[dict[str, Any]]:
    config, n = RSS_TARGET
    row = _find(idle, config, n)
    target = f"{n:,} streams on one worker: RSS < 1 GiB ({config})"
    entries: list[dict[str, Any]] = [{"target": target, "result": "n/a", "measured": None}]
    if row is not None and not row["reps"]:
        entries[0].update(result="MISS", measured=_failed(row))
    elif row is not None:
        worst = row["rss_with_max_mib"]
        passed = row["all_connected"] and worst is not None and worst * 1024 < GIB_KIB
        entries[0].update(
            result="PASS" if passed else "MISS",
            measured=f"{row['connected_min']:,} of {n:,} connected in every rep, RSS "
            f"{row['rss_with_mib']:,.0f} MiB median, {worst:,.0f} MiB worst of {row['reps']}",
        )
    configs, n, limit = FANOUT_TARGET
    for config in configs:
        entry: dict[str, Any] = {
            "target": f"fan-out p99 < {limit:.0f} ms to {n:,} clients ({config})",
            "result": "n/a",
            "measured": None,
        }
        row = _find(fanout, config, n)
        if row is not None and not row["reps"]:
            entry.update(result="MISS", measured=_failed(row))
        elif row is not None:
            p99 = row["p99_all_ms"]
            passed = row["all_connected"] and p99 is not None and p99 < limit
            delivered = 100 * (row["delivered_frac"] or 0)
            measured = (
                f"p99 {_ms(p99)}"
                if p99 is not None
                else f"only {delivered:.2f}% of events arrived in time, so p99 is unbounded"
            ) + (
                f"; events that arrived: p50 {_ms(row['p50_ms'])}, p99 {_ms(row['p99_ms'])}; "
                f"median of {row['reps']}"
            )
            if not row["all_connected"]:
                measured += f"; only {row['subscribed_min']:,} of {n:,} subscribed in a rep"
            if row["publisher_errors"]:
                measured += f"; publishing failed: {'; '.join(row['publisher_errors'])}"
            entry.update(result="PASS" if passed else "MISS", measured=measured)
        entries.append(entry)
    return entries


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def _num(value: float | None, spec: str = ",.1f") -> str:
    return "-" if value is None else format(value, spec)


def idle_table(rows: list[dict[str, Any]]) -> str:
    header = ["config", "streams", "reps", "all connected", "RSS before MiB", "RSS with MiB",
              "KiB/stream", "idle CPU %", "connect s", "dropped", "left after close",
              "log problems"]  # fmt: skip
    lines = [
        [
            r["config"],
            f"{r['n']:,}",
            str(r["reps"]),
            "yes" if r["all_connected"] else f"no (min {r['connected_min']:,})",
            _num(r["rss_before_mib"]),
            _num(r["rss_with_mib"]),
            _num(r["rss_per_conn_kib"]),
            _num(r["idle_cpu_pct"], ".2f"),
            _num(r["connect_s"]),
            str(r["dropped"]),
            str(r["left_after_close"]),
            str(r["log_problem_lines"]),
        ]  # fmt: skip
        for r in rows
    ]
    return table(header, lines, right=set(range(1, 12)) - {3})


def fanout_table(rows: list[dict[str, Any]]) -> str:
    header = ["config", "clients", "reps", "all subscribed", "p50 ms", "p99 ms", "p99 all ms",
              "max ms", "delivered %", "deliveries/s", "publish lag max ms", "server CPU %",
              "redis CPU %", "redis conns with/after", "client CPU % max", "dropped",
              "left after close", "log problems"]  # fmt: skip
    lines = []
    for r in rows:
        client = r["client_cpu_max_pct"]
        saturated = client is not None and client >= SATURATED_PCT
        lines.append(
            [
                r["config"], f"{r['n']:,}", str(r["reps"]), "yes" if r["all_connected"] else "no",
                _num(r["p50_ms"]), _num(r["p99_ms"]),
                "lost>1%" if r["p99_all_ms"] is None else _num(r["p99_all_ms"]),
                _num(r["max_ms"], ",.0f"),
                "-" if r["delivered_frac"] is None else f"{100 * r['delivered_frac']:.2f}",
                _num(r["deliveries_per_s"], ",.0f"), _num(r["publish_lag_max_ms"], ",.0f"),
                _num(r["server_cpu_pct"], ".0f"), _num(r["redis_cpu_pct"], ".0f"),
                "-" if r["redis_connections"] is None
                else f"{r['redis_connections']}/{r['redis_connections_after_close']}",
                _num(client, ".0f") + (" saturated" if saturated else ""),
                str(r["dropped"]), str(r["left_after_close"]), str(r["log_problem_lines"]),
            ]
        )  # fmt: skip
    return table(header, lines, right=set(range(1, 18)) - {3})


def target_lines(entries: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{e['result']:<4}  {e['target']}  ({e['measured'] or 'not measured'})" for e in entries
    )


def render(result: dict[str, Any]) -> str:
    """The tables and target lines of a run, recomputed from its raw measurements."""
    idle, fanout = idle_medians(result["runs"]), fanout_medians(result["runs"])
    parts = []
    if idle:
        parts.append("Idle streams\n" + idle_table(idle))
    if fanout:
        parts.append("Fan-out\n" + fanout_table(fanout))
    parts.append(target_lines(targets(idle, fanout)))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.sse.report bench/results/<date>-sse.json", file=sys.stderr)
        return 2
    print(render(json.loads(Path(args[0]).read_text())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
