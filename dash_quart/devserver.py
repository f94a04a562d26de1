"""The development server: Hypercorn in-process, restarted when a Python file changes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart


def _library_roots() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    return tuple(str(Path(root).resolve()) + os.sep for root in roots)


def watched_files(extra_files: Iterable[str] = ()) -> set[Path]:
    """The source files of imported modules outside the interpreter and the virtualenv."""
    skip = _library_roots()
    files: set[Path] = set()
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if not filename:
            continue
        path = Path(filename).resolve()
        if str(path).startswith(skip) or path.suffix not in {".py", ".pyw"}:
            continue
        files.add(path)
    files.update(Path(name).resolve() for name in extra_files)
    return files


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


async def watch_for_changes(
    extra_files: Iterable[str] = (), interval: float = 0.5
) -> Path:
    """Return the first watched file that changes. Newly imported modules are picked up."""
    extra = tuple(extra_files)
    seen: dict[Path, float | None] = {path: _mtime(path) for path in watched_files(extra)}
    while True:
        await asyncio.sleep(interval)
        for path in watched_files(extra):
            mtime = _mtime(path)
            if path not in seen:
                seen[path] = mtime
            elif mtime != seen[path]:
                return path


def restart_process() -> None:
    """Replace this process with a fresh copy of the same command line."""
    args = getattr(sys, "orig_argv", [sys.executable, *sys.argv])
    os.execv(sys.executable, [sys.executable, *args[1:]])


def serve_forever(
    server: Quart,
    *,
    host: str = "127.0.0.1",
    port: int = 8050,
    reload: bool = False,
    extra_files: Iterable[str] = (),
    on_shutdown: Callable[[asyncio.Event], Any] | None = None,
) -> None:
    """Serve ``server`` until SIGINT/SIGTERM; with ``reload``, restart on code changes."""
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = "-" if server.debug else None
    config.errorlog = "-"
    changed: list[Path] = []

    async def _main() -> None:
        shutdown = asyncio.Event()
        if on_shutdown is not None:
            on_shutdown(shutdown)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, shutdown.set)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        watcher: asyncio.Task[Path] | None = None
        if reload:
            watcher = asyncio.create_task(watch_for_changes(extra_files))

            def _on_change(task: asyncio.Task[Path]) -> None:
                if not task.cancelled() and task.exception() is None:
                    changed.append(task.result())
                    shutdown.set()

            watcher.add_done_callback(_on_change)
        try:
            await serve(server, config, shutdown_trigger=shutdown.wait)
        finally:
            if watcher is not None:
                watcher.cancel()

    asyncio.run(_main())
    if changed:
        print(f" * Detected change in {str(changed[0])!r}, reloading", flush=True)  # noqa: T201
        restart_process()
