"""The host a run happens on: open-files limit, other benchmarks, versions and source."""

from __future__ import annotations

import resource
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any


def raise_open_files(needed: int) -> tuple[int, int]:
    """Raise ``RLIMIT_NOFILE`` for this process and the servers and clients it starts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, needed)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def other_benchmarks() -> list[str]:
    """Command lines of other ``python -m bench.*`` runs on this machine."""
    proc = subprocess.run(["pgrep", "-af", r"[-]m bench\.[a-z_]+"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    return [line for line in proc.stdout.splitlines() if "bench.sse" not in line]


def extra_versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in ("sse-starlette", "anyio", "redis", "uvloop"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    binary = shutil.which("redis-server")
    if binary:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
        found["redis-server"] = out.stdout.strip()
    return found


def source_state() -> dict[str, Any]:
    """The commit measured, and whether dash_quart differed from it."""

    def git(*argv: str) -> str:
        proc = subprocess.run(["git", *argv], capture_output=True, text=True, check=False,
                              cwd=Path(__file__).resolve().parent)  # fmt: skip
        return proc.stdout.strip()

    changes = git("status", "--porcelain", "--", "../../dash_quart")
    return {"commit": git("rev-parse", "HEAD"), "dash_quart_changes": changes}
