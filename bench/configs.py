"""The five server configurations: backend, server command and environment."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from .apps.common import FLASK_ASYNC

WORKERS = 2


@dataclass(frozen=True)
class ServerConfig:
    name: str
    description: str
    app: str
    server: str
    backend: str
    env: dict[str, str] = field(default_factory=dict)
    workloads: tuple[str, ...] = ("io_async", "io_sync", "cpu")
    workers: int = WORKERS
    #: Further fields, besides ``backend``, that ``/bench/info`` must report.
    info: dict[str, str] = field(default_factory=dict)

    def argv(self, port: int) -> list[str]:
        """The command that serves the app on 127.0.0.1:``port`` with access logs off."""
        python = sys.executable
        if self.server == "gunicorn":
            return [
                python, "-m", "gunicorn", "-k", "gthread", "--threads", "8",
                "-w", str(self.workers), "-b", f"127.0.0.1:{port}",
                "--no-control-socket", self.app,
            ]  # fmt: skip
        if self.server == "hypercorn":
            return [
                python,
                "-m",
                "hypercorn",
                "-w",
                str(self.workers),
                "-b",
                f"127.0.0.1:{port}",
                self.app,
            ]
        if self.server == "uvicorn":
            return [
                python, "-m", "uvicorn", "--workers", str(self.workers), "--host", "127.0.0.1",
                "--port", str(port), "--no-access-log", "--log-level", "warning", self.app,
            ]  # fmt: skip
        raise ValueError(f"unknown server {self.server!r}")

    @property
    def command(self) -> str:
        """The command line as a person would type it, for the report."""
        return (
            " ".join(self.argv(0)[2:])
            .replace("127.0.0.1:0", "127.0.0.1:PORT")
            .replace("--port 0", "--port PORT")
        )


QUART_APP = "bench.apps.quart_app:server"
FLASK_WORKLOADS = ("io_async", "io_sync", "cpu") if FLASK_ASYNC else ("io_sync", "cpu")

ALL: dict[str, ServerConfig] = {
    config.name: config
    for config in (
        ServerConfig(
            "flask",
            "Dash's Flask backend, gunicorn gthread, 2 workers x 8 threads",
            "bench.apps.flask_app:server",
            "gunicorn",
            "FlaskDashServer",
            workloads=FLASK_WORKLOADS,
        ),
        ServerConfig(
            "quart_stock",
            "Dash's stock Quart backend (DASH_QUART_AUTO=0), hypercorn, 2 workers",
            QUART_APP,
            "hypercorn",
            "QuartDashServer",
            env={"DASH_QUART_AUTO": "0"},
        ),
        ServerConfig(
            "dash_quart_hypercorn",
            "dash_quart's QuartBackend, hypercorn, 2 workers",
            QUART_APP,
            "hypercorn",
            "QuartBackend",
        ),
        ServerConfig(
            "dash_quart_uvicorn",
            "dash_quart's QuartBackend, uvicorn, 2 workers",
            QUART_APP,
            "uvicorn",
            "QuartBackend",
        ),
        ServerConfig(
            "fastapi",
            "Dash's FastAPI backend, uvicorn, 2 workers",
            "bench.apps.fastapi_app:server",
            "uvicorn",
            "FastAPIDashServer",
        ),
    )
}

NOT_APPLICABLE: dict[tuple[str, str], str] = (
    {}
    if FLASK_ASYNC
    else {("flask", "io_async"): "Flask runs async def callbacks only with dash[async] (asgiref)"}
)
