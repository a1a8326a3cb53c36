"""Runs, source status and backfill (``headwater runs …``, ``sources status|backfill``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from headwater.edge.auth import RequireToken
from planner.bootstrap import Container
from planner.service_layer.planning import Run

router = APIRouter(prefix="/api/v1", tags=["runs"])


def _c(request: Request) -> Container:
    return request.app.state.container


def run_view(run: Run) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "source_id": run.source_id,
        "trigger": run.trigger,
        "triggered_at": run.triggered_at.isoformat(),
        "status": run.status.value,
        "config_version": run.config_version,
        "windows": [{"from": w.start.isoformat(), "to": w.end.isoformat()} for w in run.windows],
        "task_ids": run.task_ids,
        "task_status": run.task_status,
        "counts": run.counts,
        "error": run.error,
        "updated_at": run.updated_at.isoformat() if run.updated_at else None,
    }


@router.get("/runs")
async def list_runs(
    request: Request, _auth: RequireToken, source: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    return [run_view(r) for r in await _c(request).planning.runs.list(source, limit)]


@router.get("/runs/{run_id}")
async def get_run(run_id: str, request: Request, _auth: RequireToken) -> dict[str, Any]:
    run = await _c(request).planning.runs.get(run_id)
    if run is None:
        raise HTTPException(404, f"run {run_id!r} not found")
    return run_view(run)


@router.get("/sources/{source_id}/status")
async def source_status(source_id: str, request: Request, _auth: RequireToken) -> dict[str, Any]:
    container = _c(request)
    source = await container.sources.get(source_id)
    if source is None:
        raise HTTPException(404, f"source {source_id!r} not found")
    state = await container.planning.state.get(source_id)
    now = datetime.now(UTC)
    runs = await container.planning.runs.list(source_id, 10)
    job = await container.jobs.registered(source_id)
    return {
        "source_id": source_id,
        "version": source.version,
        "enabled": source.enabled,
        "planned_until": state.planned_until.isoformat() if state.planned_until else None,
        "completed_until": state.completed_until.isoformat() if state.completed_until else None,
        "lag_seconds": (now - state.completed_until).total_seconds() if state.completed_until else None,
        "job": {"name": job.name, "schedule": job.schedule, "config_version": job.config_version} if job else None,
        "last_runs": [run_view(r) for r in runs],
        "failures": [run_view(r) for r in runs if r.status.value in ("failed", "partial")],
    }


class BackfillRequest(BaseModel):
    start: datetime
    end: datetime


@router.post("/sources/{source_id}/backfill")
async def backfill(source_id: str, body: BackfillRequest, request: Request, _auth: RequireToken) -> dict[str, Any]:
    container = _c(request)
    source = await container.sources.get(source_id)
    if source is None:
        raise HTTPException(404, f"source {source_id!r} not found")
    if body.end <= body.start:
        raise HTTPException(422, "backfill needs start < end")
    try:
        results = await container.planning.backfill(source, body.start, body.end)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {
        "source_id": source_id,
        "runs": [{"run_id": r.run_id, "outcome": r.outcome.value, "work_items": r.work_items} for r in results],
    }
