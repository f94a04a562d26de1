"""Summarise raw benchmark runs: medians, tables, ratios and the target lines.

``python -m bench.report bench/results/<date>.json`` prints the tables of a saved run again.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SUBJECTS = ("dash_quart_hypercorn", "dash_quart_uvicorn")
BASELINES = ("flask", "quart_stock", "fastapi")
RATIO_CONCURRENCY = 200

#: (workload, subject, baseline, minimum ratio) at c=200.
TARGETS = (
    ("io_sync", "dash_quart_hypercorn", "flask", 5.0),
    ("io_async", "dash_quart_hypercorn", "fastapi", 1.0),
)


def split(workers: dict[str, int]) -> str:
    total = sum(workers.values())
    if not total:
        return "-"
    shares = sorted((100 * n / total for n in workers.values()), reverse=True)
    return "/".join(f"{share:.0f}" for share in shares)


def _median_of(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def medians(runs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (config, workload, c): medians over the reps that measured something."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["config"], run["workload"], run["c"]), []).append(run)
    rows = []
    for (config, workload, c), group in groups.items():
        ok = [run for run in group if run.get("rps") is not None]
        row: dict[str, Any] = {
            "config": config,
            "workload": workload,
            "c": c,
            "reps": len(ok),
            "failed_reps": len(group) - len(ok),
        }
        if ok:
            rps = [run["rps"] for run in ok]
            row.update(
                rps=round(statistics.median(rps), 1),
                rps_min=round(min(rps), 1),
                rps_max=round(max(rps), 1),
                p50_ms=round(statistics.median(run["p50_ms"] for run in ok), 2),
                p99_ms=round(statistics.median(run["p99_ms"] for run in ok), 2),
                cpu_ms_per_req=_median_of(run.get("cpu_ms_per_req") for run in ok),
                errors=sum(run["errors"] for run in ok),
                bad_body=sum(run["bad_body"] for run in ok),
                requests=sum(run["requests"] for run in ok),
                worker_split=[split(run["workers"]) for run in ok],
            )
        rows.append(row)
    return rows


def find(rows: list[dict[str, Any]], config: str, workload: str, c: int) -> dict[str, Any] | None:
    for row in rows:
        if (row["config"], row["workload"], row["c"]) == (config, workload, c):
            return row if row.get("rps") is not None else None
    return None


def ratios(rows: list[dict[str, Any]], c: int | None = None) -> list[dict[str, Any]]:
    """rps ratios of each dash_quart config to each baseline, at c=200 (or the highest c)."""
    measured = {row["c"] for row in rows}
    if c is None:
        c = RATIO_CONCURRENCY if RATIO_CONCURRENCY in measured else max(measured, default=0)
    out = []
    for workload in dict.fromkeys(row["workload"] for row in rows):
        for subject in SUBJECTS:
            mine = find(rows, subject, workload, c)
            if mine is None:
                continue
            entry: dict[str, Any] = {"workload": workload, "c": c, "subject": subject}
            for baseline in BASELINES:
                other = find(rows, baseline, workload, c)
                entry[baseline] = (
                    round(mine["rps"] / other["rps"], 2) if other and other["rps"] else None
                )
            out.append(entry)
    return out


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for workload, subject, baseline, minimum in TARGETS:
        mine = find(rows, subject, workload, RATIO_CONCURRENCY)
        other = find(rows, baseline, workload, RATIO_CONCURRENCY)
        entry: dict[str, Any] = {
            "target": f"{workload} c={RATIO_CONCURRENCY}: {subject} / {baseline} >= {minimum}",
            "subject_rps": mine["rps"] if mine else None,
            "baseline_rps": other["rps"] if other else None,
            "ratio": None,
            "result": "n/a",
        }
        if mine and other and other["rps"]:
            entry["ratio"] = round(mine["rps"] / other["rps"], 2)
            entry["result"] = "PASS" if entry["ratio"] >= minimum else "MISS"
        out.append(entry)
    return out


def table(header: list[str], lines: list[list[str]], right: set[int]) -> str:
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        cells = (
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(row) for row in lines)])


def results_table(rows: list[dict[str, Any]], not_applicable: dict[str, str]) -> str:
    header = [
        "config",
        "workload",
        "c",
        "rps",
        "rps min-max",
        "p50 ms",
        "p99 ms",
        "cpu ms/req",
        "errors",
        "worker split % per rep / note",
    ]
    lines = []
    for row in rows:
        if row.get("rps") is None:
            lines.append([row["config"], row["workload"], str(row["c"]), "failed", *[""] * 6])
            continue
        errors = str(row["errors"]) + (f" +{row['bad_body']} bad" if row["bad_body"] else "")
        lines.append(
            [
                row["config"],
                row["workload"],
                str(row["c"]),
                f"{row['rps']:,.0f}",
                f"{row['rps_min']:,.0f}-{row['rps_max']:,.0f}",
                f"{row['p50_ms']:.1f}",
                f"{row['p99_ms']:.1f}",
                "-" if row.get("cpu_ms_per_req") is None else f"{row['cpu_ms_per_req']:.2f}",
                errors,
                " ".join(row["worker_split"]),
            ]
        )
    for key, reason in not_applicable.items():
        config, workload = key.split("/")
        lines.append([config, workload, "all", "n/a", *[""] * 5, reason])
    return table(header, lines, right={2, 3, 4, 5, 6, 7, 8})


def ratio_table(entries: list[dict[str, Any]]) -> str:
    header = ["workload", "c", "rps ratio of", *(f"vs {b}" for b in BASELINES)]
    lines = [
        [
            e["workload"],
            str(e["c"]),
            e["subject"],
            *("n/a" if e[b] is None else f"x{e[b]:.2f}" for b in BASELINES),
        ]
        for e in entries
    ]
    return table(header, lines, right={1, 3, 4, 5})


def target_lines(entries: list[dict[str, Any]]) -> str:
    lines = []
    for e in entries:
        if e["ratio"] is None:
            lines.append(f"{e['result']:<4}  {e['target']}  (not measured)")
        else:
            lines.append(
                f"{e['result']:<4}  {e['target']}  "
                f"({e['subject_rps']:,.0f} / {e['baseline_rps']:,.0f} rps = {e['ratio']:.2f})"
            )
    return "\n".join(lines)


def render(result: dict[str, Any]) -> str:
    rows = result["medians"]
    return "\n\n".join(
        [
            results_table(rows, result.get("not_applicable", {})),
            ratio_table(result["ratios"]),
            target_lines(result["targets"]),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.report bench/results/<date>.json", file=sys.stderr)
        return 2
    print(render(json.loads(Path(args[0]).read_text())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
