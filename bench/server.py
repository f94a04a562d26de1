"""Start a benchmark server, wait until its workers answer, and stop it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .configs import ServerConfig

ROOT = Path(__file__).resolve().parent.parent


class ServerError(RuntimeError):
    """The server did not start, answered wrongly, or would not stop."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def request(
    port: int,
    method: str,
    path: str,
    body: str | None = None,
    timeout: float = 5.0,
    content_type: str | None = "application/json",
) -> tuple[int, dict[str, str], bytes, float]:
    """One request on a fresh connection: status, lower-cased headers, body, seconds."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": content_type} if body is not None and content_type else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        found = {k.lower(): v for k, v in response.getheaders()}
        return response.status, found, data, time.perf_counter() - started
    finally:
        conn.close()


def _group_gone(pgid: int, deadline: float) -> bool:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def group_cpu_seconds(ident: int, by: str = "pgid") -> float:
    """User plus system CPU time of the live processes in group ``ident`` (or process)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if (int(entry.name) if by == "pid" else int(fields[2])) == ident:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


@dataclass
class Server:
    config: ServerConfig
    log_path: Path
    env: dict[str, str]
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    pids_seen: set[str] = field(default_factory=set)
    _log: IO[bytes] | None = None

    def start(self, deadline: float = 90.0, balance_wait: float = 10.0) -> None:
        """Launch the server and poll ``/bench/info`` until it answers on the right backend.

        Polling goes on for up to ``balance_wait`` seconds more until both workers have
        answered, so that measurements do not start while one is still booting.
        """
        self.port = free_port()
        env = {**os.environ, **self.env, **self.config.env}
        env["BENCH_EXPECT_BACKEND"] = self.config.backend
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self._log = self.log_path.open("ab")
        self._log.write(
            f"\n=== {self.config.name}: {' '.join(self.config.argv(self.port))}\n".encode()
        )
        self._log.flush()
        self.proc = subprocess.Popen(
            self.config.argv(self.port),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        first = time.monotonic()
        end = first + deadline
        answered_at: float | None = None
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise ServerError(
                    f"{self.config.name} exited with {self.proc.returncode} while starting; "
                    f"see {self.log_path}"
                )
            info = self._info()
            if info is not None:
                if info["backend"] != self.config.backend:
                    raise ServerError(
                        f"{self.config.name} runs on {info['backend']}, "
                        f"expected {self.config.backend}"
                    )
                wrong = {k: info.get(k) for k, v in self.config.info.items() if info.get(k) != v}
                if wrong:
                    raise ServerError(
                        f"{self.config.name} reports {wrong} in /bench/info, "
                        f"expected {self.config.info}"
                    )
                self.pids_seen.add(info["pid"])
                answered_at = answered_at or time.monotonic()
                if len(self.pids_seen) >= self.config.workers:
                    return
                if time.monotonic() - answered_at > balance_wait:
                    return
            time.sleep(0.1)
        if answered_at is None:
            self.stop()
            raise ServerError(f"{self.config.name} did not answer within {deadline:.0f} s")

    def _info(self) -> dict[str, Any] | None:
        try:
            status, _, data, _ = request(self.port, "GET", "/bench/info", timeout=2.0)
        except OSError:
            return None
        if status != 200:
            return None
        info: dict[str, Any] = json.loads(data)
        return info

    def cpu_seconds(self) -> float:
        """CPU time the server's processes have used so far."""
        return group_cpu_seconds(self.proc.pid) if self.proc is not None else 0.0

    def quiesce(self, deadline: float = 15.0, fast: float = 0.05) -> float:
        """Wait until every worker seen answers a probe within ``fast`` seconds.

        A worker that runs callbacks on its event loop keeps working through the requests
        queued when wrk stopped; the next measurement must not inherit them. Returns the
        seconds waited.
        """
        started = time.monotonic()
        quick: set[str] = set()
        while time.monotonic() - started < deadline:
            try:
                status, headers, _, took = request(self.port, "GET", "/bench/info", timeout=5.0)
            except OSError:
                time.sleep(0.05)
                continue
            pid = headers.get("x-worker-pid", "")
            if status == 200 and took <= fast:
                quick.add(pid)
            else:
                quick.discard(pid)
            if quick >= self.pids_seen:
                break
            time.sleep(0.01)
        return time.monotonic() - started

    def stop(self, deadline: float = 15.0) -> None:
        """SIGTERM the server, then SIGKILL its process group after ``deadline`` seconds."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=deadline)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=deadline)
        if proc is not None and not _group_gone(proc.pid, deadline=5.0):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None
        self.proc = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
