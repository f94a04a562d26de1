"""The runner's side of the client processes: start them, hear from them, reap them."""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from .client import Plan, child


class MeasureError(RuntimeError):
    """A step of a measurement did not finish in time or answered wrongly."""


class Clients:
    """Client processes, each holding a share of the connections; always :meth:`close` them."""

    def __init__(self, plans: list[Plan]) -> None:
        context = multiprocessing.get_context("spawn")
        self.procs: list[BaseProcess] = []
        self.pipes: list[Connection] = []
        for plan in plans:
            mine, theirs = context.Pipe()
            proc = context.Process(target=child, args=(theirs, plan), daemon=True)
            proc.start()
            theirs.close()
            self.procs.append(proc)
            self.pipes.append(mine)

    def _receive(self, timeout: float, step: str) -> list[dict[str, Any]]:
        end = time.monotonic() + timeout
        found: list[dict[str, Any]] = []
        for pipe, proc in zip(self.pipes, self.procs, strict=True):
            try:
                ready = pipe.poll(max(0.0, end - time.monotonic()))
                message = pipe.recv() if ready else None
            except EOFError:
                message = None
            if not isinstance(message, dict):
                raise MeasureError(f"client process {proc.pid} sent nothing at {step}")
            found.append(message)
        return found

    def connected(self, timeout: float) -> list[dict[str, Any]]:
        return self._receive(timeout, "connect")

    def stop_at(self, when: float) -> None:
        for pipe in self.pipes:
            pipe.send(when)

    def results(self, timeout: float) -> list[dict[str, Any]]:
        return self._receive(timeout, "results")

    def close(self) -> None:
        """Tell every client to stop now (harmless if it has), then reap them all."""
        for pipe in self.pipes:
            try:
                pipe.send(time.time())
            except OSError:
                pass
        end = time.monotonic() + 15
        for proc in self.procs:
            proc.join(timeout=max(0.0, end - time.monotonic()))
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=10)
        for pipe in self.pipes:
            pipe.close()

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def split(total: int, parts: int) -> list[int]:
    """``total`` as ``parts`` near-equal positive shares (fewer parts if total is small)."""
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def connect(plans: list[Plan], deadline: float) -> tuple[Clients, dict[str, Any]]:
    """Start a client process per plan and wait until each holds its connections."""
    clients = Clients(plans)
    try:
        messages = clients.connected(deadline + 60)
    except BaseException:
        clients.close()
        raise
    errors: dict[str, int] = {}
    for message in messages:
        for reason, count in message["errors"].items():
            errors[reason] = errors.get(reason, 0) + count
    summary = {
        "connected": sum(m["connected"] for m in messages),
        "connect_errors": errors,
        "connect_s": max(m["connect_s"] for m in messages),
    }
    return clients, summary
