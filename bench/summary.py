"""The latest result of each benchmark, summarised in Markdown for the README.

``python -m bench.summary`` prints the summary; ``python -m bench.summary --write README.md``
replaces the text between the ``<!-- bench-summary:start -->`` and
``<!-- bench-summary:end -->`` markers of that file with it. Every figure is read from the
newest result file of each kind in ``bench/results/`` (quick runs are ignored); a kind
without a result file is left out.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
START = "<!-- bench-summary:start -->"
END = "<!-- bench-summary:end -->"
DATE = r"\d{4}-\d{2}-\d{2}"

#: Callback benchmark: the configurations shown, the one compared, and the concurrency.
CALLBACK_CONFIGS = ("flask", "quart_stock", "dash_quart_hypercorn", "fastapi")
CALLBACK_SUBJECT = "dash_quart_hypercorn"
CALLBACK_CONCURRENCY = 200
#: Flask bridge benchmark configurations.
BRIDGE_FLASK, BRIDGE, BRIDGE_NATIVE = "flask_gthread", "bridge_hypercorn", "quart_native"
BRIDGE_FLOOR = "wsgi_floor_hypercorn"
#: The ratios to Flask shown for the bridge, by column label.
RATIO_LABELS = {"bridge": "bridge/flask", "hooked": "hooked/flask", "floor": "floor/flask"}
#: Caching benchmark: the latency operation shown and the uncached throughput baseline.
CACHE_OPERATION = "get_hit"
CACHE_LIBRARIES = ("ours", "flask_caching")
CACHE_UNCACHED = "uncached"

Result = dict[str, Any]
Row = dict[str, Any]


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _rows(value: object) -> list[Row]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _fmt(value: object, spec: str, missing: str = "-") -> str:
    number = _number(value)
    return missing if number is None else format(number, spec)


def _ratio(value: object) -> str:
    number = _number(value)
    return "n/a" if number is None else f"×{number:.2f}"


def _percent(fraction: object) -> str:
    number = _number(fraction)
    return "-" if number is None else f"{100 * number:.2f}"


def _ms(value: object) -> str:
    number = _number(value)
    if number is None:
        return "-"
    return f"{number:,.0f}" if number >= 100 else f"{number:.1f}"


def _code(name: str) -> str:
    return f"`{name}`"


def table(header: list[str], lines: Iterable[list[str]], right: set[int]) -> list[str]:
    """A Markdown table; columns in ``right`` are aligned right."""
    rule = ["---:" if i in right else "---" for i in range(len(header))]
    return [f"| {' | '.join(row)} |" for row in (header, rule, *lines)]


def _find(rows: list[Row], **match: object) -> Row | None:
    for row in rows:
        if all(row.get(key) == value for key, value in match.items()):
            return row
    return None


def _measured(rows: list[Row], **match: object) -> Row | None:
    """The median row matching ``match`` that has a measurement."""
    row = _find(rows, **match)
    return row if row is not None and row.get("rps") is not None else None


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def machine_line(result: Result, path: Path) -> str:
    """Where and how a run was measured, as recorded in its file."""
    machine = _dict(result.get("machine"))
    parts = []
    cpus = machine.get("cpu_count")
    if cpus:
        model = machine.get("cpu_model")
        parts.append(f"{cpus} CPUs" + (f" ({model})" if model and model != "unknown" else ""))
    if machine.get("python"):
        parts.append(f"{machine.get('python_implementation', 'Python')} {machine['python']}")
    versions = _dict(result.get("versions"))
    parts += [f"{name} {versions[name]}" for name in ("dash", "dash-quart") if versions.get(name)]
    parameters = _dict(result.get("parameters"))
    reps = parameters.get("reps")
    if reps:
        duration = _number(parameters.get("duration_s"))
        largest = parameters.get("reps_largest")
        parts.append(
            f"medians of {reps} reps"
            + (f" of {duration:g} s" if duration is not None else "")
            + (f" ({largest} at the largest size)" if largest and largest != reps else "")
        )
    shown = _display(path)
    return f"Run of {result.get('date', '?')} ([`{shown}`]({shown})): " + ", ".join(parts) + "."


def target_detail(entry: Row) -> str:
    """What a target line measured, from the fields each benchmark records."""
    for key in ("measured", "detail"):
        if key in entry:
            text = entry[key]
            return str(text) if text else "not measured"
    ratio = _number(entry.get("ratio"))
    if ratio is None:
        return "not measured"
    if "subject_rps" in entry:
        return (
            f"{_fmt(entry['subject_rps'], ',.0f')} / {_fmt(entry.get('baseline_rps'), ',.0f')} "
            f"rps = ×{ratio:.2f}"
        )
    unit = str(entry.get("unit", ""))
    digits = 2 if unit == "ms" else 0
    floor = _number(entry.get("floor_ratio"))
    return (
        f"{_fmt(entry.get('bridge'), f',.{digits}f')} / "
        f"{_fmt(entry.get(BRIDGE_FLASK), f',.{digits}f')} {unit} = ×{ratio:.2f}"
        + ("" if floor is None else f"; Flask behind no framework on Hypercorn: ×{floor:.2f}")
    )


def target_lines(result: Result) -> list[str]:
    """Each target's result; those that the run did not measure at all are left out."""
    return [
        f"- **{entry.get('result', 'n/a')}** {entry.get('target', '?')} ({target_detail(entry)})"
        for entry in _rows(result.get("targets"))
        if not (entry.get("result") == "n/a" and "measured" in entry and entry["measured"] is None)
    ]


def callbacks(result: Result) -> list[str]:
    rows = _rows(result.get("medians"))
    measured = {row.get("c") for row in rows}
    c = CALLBACK_CONCURRENCY
    if c not in measured:
        c = max((n for n in measured if isinstance(n, int)), default=c)
    parameters = _dict(result.get("parameters"))
    workloads = parameters.get("workloads") or list(dict.fromkeys(r.get("workload") for r in rows))
    not_applicable = _dict(result.get("not_applicable"))
    baselines = [name for name in CALLBACK_CONFIGS if name != CALLBACK_SUBJECT]
    header = [
        "workload",
        *(f"{_code(name)} rps" for name in CALLBACK_CONFIGS),
        *(f"÷ {_code(name)}" for name in baselines),
    ]
    lines = []
    for workload in workloads:
        cells = [_code(str(workload))]
        for config in CALLBACK_CONFIGS:
            row = _measured(rows, config=config, workload=workload, c=c)
            if row is not None:
                cells.append(_fmt(row["rps"], ",.0f"))
            else:
                cells.append("n/a" if f"{config}/{workload}" in not_applicable else "-")
        ratio = _find(_rows(result.get("ratios")), workload=workload, c=c, subject=CALLBACK_SUBJECT)
        cells += [_ratio(ratio.get(name) if ratio else None) for name in baselines]
        lines.append(cells)
    intro = (
        f"Callback requests per second at c={c} (wrk connections), and {_code(CALLBACK_SUBJECT)}'s"
        " rps divided by each other server's:"
    )
    return [intro, "", *table(header, lines, set(range(1, len(header))))]


def flask_bridge(result: Result) -> list[str]:
    rows = _rows(result.get("medians"))
    ratios = _rows(result.get("ratios"))
    measured = _dict(result.get("parameters")).get("concurrency") or []
    concurrency = [c for c in measured if isinstance(c, int)]
    low, high = (min(concurrency), max(concurrency)) if concurrency else (1, 50)
    endpoints = list(_dict(result.get("endpoints"))) or [str(r.get("endpoint")) for r in ratios]
    header = [
        "endpoint",
        *(f"{_code(name)} rps c={high}" for name in (BRIDGE_FLASK, BRIDGE, BRIDGE_NATIVE)),
        *(f"{label} ÷ Flask rps" for label in RATIO_LABELS),
        *(f"{_code(name)} p50 ms c={low}" for name in (BRIDGE_FLASK, BRIDGE)),
        *(f"{label} ÷ Flask p50" for label in RATIO_LABELS),
    ]
    lines = []
    for endpoint in endpoints:
        cells = [_code(endpoint)]
        for name in (BRIDGE_FLASK, BRIDGE, BRIDGE_NATIVE):
            row = _measured(rows, config=name, workload=endpoint, c=high)
            cells.append(_fmt(row["rps"] if row else None, ",.0f"))
        ratio = _find(ratios, endpoint=endpoint) or {}
        for pair in RATIO_LABELS.values():
            cells.append(_ratio(_dict(ratio.get(f"rps_c{high}")).get(pair)))
        for name in (BRIDGE_FLASK, BRIDGE):
            row = _measured(rows, config=name, workload=endpoint, c=low)
            cells.append(_fmt(row["p50_ms"] if row else None, ".2f"))
        for pair in RATIO_LABELS.values():
            cells.append(_ratio(_dict(ratio.get(f"p50_c{low}")).get(pair)))
        lines.append(cells)
    intro = (
        "An unchanged `flask.Blueprint` served by Flask on gunicorn, through dash-quart's"
        " bridge on Hypercorn, and rewritten as a native Quart blueprint. *hooked* is the bridge"
        " when the Quart app has a request hook, so that bridged requests run Quart's request"
        " cycle. *floor* is the plain Flask app behind the least an ASGI server can do"
        f" ({_code(BRIDGE_FLOOR)}: no framework, views in a thread pool), the lower bound of any"
        " Flask host on Hypercorn:"
    )
    return [intro, "", *table(header, lines, set(range(1, len(header))))]


def _largest(rows: list[Row]) -> list[Row]:
    """Per config, in order of appearance, the measured row with the most connections."""
    best: dict[str, Row] = {}
    for row in rows:
        if not row.get("reps"):
            continue
        config = str(row.get("config"))
        if config not in best or row.get("n", 0) > best[config].get("n", 0):
            best[config] = row
    return list(best.values())


def sse(result: Result) -> list[str]:
    out = []
    idle = _largest(_rows(result.get("idle")))
    if idle:
        header = ["config", "idle streams", "reps", "all connected", "RSS MiB", "KiB per stream"]
        lines = [
            [
                _code(str(row["config"])),
                _fmt(row.get("n"), ",.0f"),
                str(row["reps"]),
                "yes" if row.get("all_connected") else "no",
                _fmt(row.get("rss_with_mib"), ",.1f"),
                _fmt(row.get("rss_per_conn_kib"), ",.1f"),
            ]
            for row in idle
        ]
        out += ["Idle streams held by one worker:", "", *table(header, lines, {1, 2, 4, 5}), ""]
    fanout = _largest(_rows(result.get("fanout")))
    if fanout:
        header = ["config", "clients", "reps", "delivered %", "p50 ms", "p99 ms, all events"]
        lines = [
            [
                _code(str(row["config"])),
                _fmt(row.get("n"), ",.0f"),
                str(row["reps"]),
                _percent(row.get("delivered_frac")),
                _ms(row.get("p50_ms")),
                "over 1% lost" if row.get("p99_all_ms") is None else _ms(row["p99_all_ms"]),
            ]
            for row in fanout
        ]
        out += [
            "One event fanned out to every client (delivery latency):",
            "",
            *table(header, lines, {1, 2, 3, 4, 5}),
            "",
        ]
    return out[:-1] if out else ["No SSE measurement in this run."]


def caching(result: Result) -> list[str]:
    out = []
    latency = _rows(_dict(result.get("latency")).get("medians"))
    backends = list(
        dict.fromkeys(
            str(row.get("backend")) for row in latency if row.get("operation") == CACHE_OPERATION
        )
    )
    if backends:
        header = [
            "backend",
            "dash-quart-caching p50 µs",
            "Flask-Caching p50 µs",
            "dash-quart-caching ÷ Flask-Caching",
        ]
        lines = []
        for backend in backends:
            ours, upstream = (
                _find(latency, backend=backend, operation=CACHE_OPERATION, library=library)
                for library in CACHE_LIBRARIES
            )
            mine = _number(ours.get("p50_us")) if ours else None
            other = _number(upstream.get("p50_us")) if upstream else None
            lines.append(
                [
                    _code(backend),
                    _fmt(mine, ",.1f"),
                    _fmt(other, ",.1f"),
                    _ratio(round(mine / other, 2) if mine is not None and other else None),
                ]
            )
        out += [
            f"`cache.get` of a small cached value (`{CACHE_OPERATION}`), in process:",
            "",
            *table(header, lines, {1, 2, 3}),
            "",
        ]
    throughput = _dict(result.get("throughput"))
    medians = _rows(throughput.get("medians"))
    ratios = _rows(throughput.get("ratios"))
    if medians:
        configs = list(dict.fromkeys(str(row.get("config")) for row in medians))
        c = max((int(row["c"]) for row in medians if isinstance(row.get("c"), int)), default=0)
        header = ["config", f"rps c={c}", "p50 ms", f"rps ÷ `{CACHE_UNCACHED}`"]
        lines = []
        for config in configs:
            row = _measured(medians, config=config, c=c)
            ratio = _find(ratios, config=config, c=c)
            lines.append(
                [
                    _code(config),
                    _fmt(row["rps"] if row else None, ",.0f"),
                    _fmt(row["p50_ms"] if row else None, ".1f"),
                    "-"
                    if config == CACHE_UNCACHED
                    else _ratio(ratio.get("rps") if ratio else None),
                ]
            )
        out += [
            "A memoized async Dash callback under wrk:",
            "",
            *table(header, lines, {1, 2, 3}),
            "",
        ]
    return out[:-1] if out else ["No caching measurement in this run."]


@dataclass(frozen=True)
class Kind:
    """One benchmark: its title, its result files and how its headline is drawn."""

    title: str
    files: re.Pattern[str]
    headline: Callable[[Result], list[str]]


KINDS = (
    Kind("Callbacks", re.compile(rf"{DATE}\.json"), callbacks),
    Kind(
        "Flask blueprints through the bridge",
        re.compile(rf"{DATE}-flask-bridge\.json"),
        flask_bridge,
    ),
    Kind("Server-sent events", re.compile(rf"{DATE}-sse\.json"), sse),
    Kind(
        "Server-sent events, two workers and Redis",
        re.compile(rf"{DATE}-sse-2w\.json"),
        sse,
    ),
    Kind("Caching", re.compile(rf"{DATE}-caching\.json"), caching),
)


def latest(results: Path, files: re.Pattern[str]) -> Path | None:
    """The newest file whose whole name matches ``files``; names start with the date."""
    found = [path for path in results.glob("*.json") if files.fullmatch(path.name)]
    return max(found, key=lambda path: path.name, default=None)


def render(results: Path = RESULTS) -> str:
    """The Markdown summary of the newest result of each benchmark kind in ``results``."""
    parts = [
        "Headline figures of the latest run of each benchmark, written by `make readme` from "
        "the result files. The method, every table and what limits each measurement are in "
        "[bench/README.md](bench/README.md)."
    ]
    for kind in KINDS:
        path = latest(results, kind.files)
        if path is None:
            continue
        result: Result = json.loads(path.read_text())
        block = [f"### {kind.title}", "", machine_line(result, path), "", *kind.headline(result)]
        targets = target_lines(result)
        if targets:
            block += ["", "Targets:", "", *targets]
        parts.append("\n".join(block))
    return "\n\n".join(parts) + "\n"


def section(text: str) -> str:
    """The text between the summary markers of ``text``."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"Add the markers {START} and {END} where the summary goes.")
    return text[start + len(START) : end]


def replace_section(text: str, summary: str) -> str:
    """``text`` with the part between the summary markers replaced by ``summary``."""
    section(text)
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{summary}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.summary",
        description="Summarise the latest benchmark results in Markdown.",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--write", type=Path, metavar="FILE", help="replace FILE's marked section")
    args = parser.parse_args(argv)
    if not args.results.is_dir():
        print(f"error: no results directory at {args.results}", file=sys.stderr)
        return 2
    summary = render(args.results)
    if args.write is None:
        sys.stdout.write(summary)
        return 0
    try:
        updated = replace_section(args.write.read_text(), summary)
    except (OSError, ValueError) as error:
        print(f"error: {args.write}: {error}", file=sys.stderr)
        return 2
    args.write.write_text(updated)
    print(f"updated {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
