"""A long job whose progress reaches the page as server-sent events."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from dash_quart_login import login_required
from quart import Blueprint, Quart

from .live import broadcaster

blueprint = Blueprint("jobs", __name__, url_prefix="/api/jobs")
_tasks: set[asyncio.Task[None]] = set()
STEPS = 10


async def _run(job_id: str, step_seconds: float) -> None:
    for step in range(1, STEPS + 1):
        await asyncio.sleep(step_seconds)
        done = step == STEPS
        await broadcaster.publish(
            f"job-{job_id}",
            {"progress": step * 100 // STEPS, "done": done,
             "message": "finished" if done else f"step {step} of {STEPS}"},
            event="progress",
        )


async def start_job(step_seconds: float = 0.4) -> dict[str, Any]:
    """Start a job; returns its id, the URL of its progress stream and the first event id."""
    job_id = secrets.token_hex(6)
    first = await broadcaster.publish(
        f"job-{job_id}", {"progress": 0, "done": False, "message": "queued"}, event="progress"
    )
    task = asyncio.create_task(_run(job_id, step_seconds))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return {"id": job_id, "events": f"/api/jobs/{job_id}/events?lastEventId={first}"}


@blueprint.post("")
@login_required
async def create() -> dict[str, Any]:
    return await start_job()


@blueprint.get("/<job_id>/events")
@login_required
async def events(job_id: str) -> Any:
    return broadcaster.stream(f"job-{job_id}")


def init_app(server: Quart) -> None:
    server.register_blueprint(blueprint)
