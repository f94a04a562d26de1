"""Drive ``wrk`` with a Lua script that repeats one request and reports JSON.

The request is a callback body POSTed as JSON unless the caller asks for another method, body
or content type.

The script's ``response()`` counts answers per ``X-Worker-Pid`` and bodies missing the
expected output; its ``done()`` prints one line, ``WRK_JSON {...}``, with the request and
error counts, latency percentiles in microseconds and the per-worker split.
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = "WRK_JSON "
JSON = "application/json"

_LUA = r"""
wrk.method = __METHOD__
wrk.body = __BODY__
__CONTENT_TYPE__
local expected = __EXPECTED__

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

pids = {}
statuses = {}
bad_body = 0
function response(status, headers, body)
  local pid = headers["X-Worker-Pid"] or headers["x-worker-pid"] or "none"
  pids[pid] = (pids[pid] or 0) + 1
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status == 200 and not string.find(body, expected, 1, true) then
    bad_body = bad_body + 1
  end
end

local function encode_counts(t)
  local parts = {}
  for k, v in pairs(t) do
    table.insert(parts, string.format("%q:%d", k, v))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function merge(into, t)
  for k, v in pairs(t) do into[k] = (into[k] or 0) + v end
end

function done(summary, latency, requests)
  local workers, codes, bad = {}, {}, 0
  for _, t in ipairs(threads) do
    merge(workers, t:get("pids") or {})
    merge(codes, t:get("statuses") or {})
    bad = bad + (t:get("bad_body") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\"duration_us\":%d,\"requests\":%d,\"bytes\":%d," ..
    "\"errors\":{\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d}," ..
    "\"bad_body\":%d,\"latency_us\":{\"min\":%d,\"mean\":%.1f,\"max\":%d," ..
    "\"p50\":%d,\"p90\":%d,\"p99\":%d},\"workers\":%s,\"statuses\":%s}\n",
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout, bad,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    encode_counts(workers), encode_counts(codes)))
end
"""


class WrkError(RuntimeError):
    """wrk failed or printed no result."""


def find_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkError("wrk is not installed: apt-get install wrk (or run make system-deps)")
    return path


def lua_script(
    body: str | None, expected: str, method: str = "POST", content_type: str | None = JSON
) -> str:
    """The Lua script for one request; ``body=None`` sends none, ``content_type=None`` no header."""
    values = {
        "METHOD": json.dumps(method),
        "BODY": "nil" if body is None else json.dumps(body),
        "CONTENT_TYPE": "" if content_type is None
        else f'wrk.headers["Content-Type"] = {json.dumps(content_type)}',
        "EXPECTED": json.dumps(expected),
    }  # fmt: skip
    return re.sub(r"__([A-Z_]+)__", lambda match: values[match[1]], _LUA)


@dataclass(frozen=True)
class Measurement:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    bad_body: int
    workers: dict[str, int]
    raw: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "requests": self.requests,
            "errors": self.errors,
            "bad_body": self.bad_body,
            "workers": self.workers,
            "wrk": self.raw,
        }


def parse(stdout: str) -> Measurement:
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            raw: dict[str, Any] = json.loads(line[len(MARKER) :])
            break
    else:
        raise WrkError(f"wrk printed no {MARKER.strip()} line:\n{stdout}")
    seconds = raw["duration_us"] / 1e6
    non_2xx = sum(n for code, n in raw["statuses"].items() if not code.startswith("2"))
    socket_errors = sum(raw["errors"][k] for k in ("connect", "read", "write", "timeout"))
    raw["non_2xx"] = non_2xx
    return Measurement(
        rps=raw["requests"] / seconds if seconds else 0.0,
        p50_ms=raw["latency_us"]["p50"] / 1000,
        p99_ms=raw["latency_us"]["p99"] / 1000,
        requests=raw["requests"],
        errors=non_2xx + socket_errors,
        bad_body=raw["bad_body"],
        workers=dict(sorted(raw["workers"].items())),
        raw=raw,
    )


def run(
    url: str,
    body: str | None,
    expected: str,
    *,
    connections: int,
    duration: float,
    timeout: float,
    method: str = "POST",
    content_type: str | None = JSON,
) -> Measurement:
    """Run one bounded wrk measurement against ``url`` and return what it measured."""
    threads = 1 if connections < 2 else 2
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "callback.lua"
        script.write_text(lua_script(body, expected, method, content_type))
        argv = [
            find_wrk(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            f"--timeout={max(1, round(timeout))}s",
            "--latency",
            "-s",
            str(script),
            url,
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            proc = subprocess.run(
                argv, capture_output=True, text=True, timeout=duration + timeout + 30, check=False
            )
        except subprocess.TimeoutExpired:
            raise WrkError(f"wrk did not finish within {duration + timeout + 30:.0f} s") from None
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise WrkError(f"wrk exited {proc.returncode}: {proc.stderr.strip() or proc.stdout}")
    measurement = parse(proc.stdout)
    measurement.raw["wrk_cpu_s"] = round(
        after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3
    )
    return measurement
