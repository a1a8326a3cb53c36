"""Runs, source status and backfill (``headwater runs …``, ``sources status|backfill``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from headwater.edge.auth import RequireToken
from planner.domain.retries import WindowRetry
from planner.domain.runs import Run
from planner.entrypoints.deps import ContainerDep
from planner.service_layer.queries import LastError, SourceStatus

__all__ = ["router", "run_view", "status_view", "window_retry_view"]

router = APIRouter(prefix="/api/v1", tags=["runs"])


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
        "task_errors": run.task_errors,
        "attempts": run.attempts,
        "counts": run.counts,
        "error": run.error,
        "updated_at": run.updated_at.isoformat() if run.updated_at else None,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def window_retry_view(w: WindowRetry) -> dict[str, Any]:
    return {
        "task_id": w.task_id,
        "from": w.window.start.isoformat(),
        "to": w.window.end.isoformat(),
        "state": w.state.value,
        "attempt": w.attempt,
        "next_attempt_at": _iso(w.next_attempt_at),
        "last_error": w.last_error,
        "last_failed_at": _iso(w.last_failed_at),
        "last_failed_run": w.last_failed_run,
        "run_id": w.run_id,
        "first_failed_at": w.first_failed_at.isoformat(),
        "updated_at": w.updated_at.isoformat(),
    }


def _last_error_view(e: LastError | None) -> dict[str, Any] | None:
    return {"at": e.at.isoformat(), "error": e.error, "run_id": e.run_id, "task_id": e.task_id} if e else None


def _cursor_view(status: SourceStatus) -> dict[str, Any] | None:
    """The stored cursor (null fields until one is) and where the next fetch starts."""
    spec, cursor, start = status.incremental, status.cursor, status.next_start
    if spec is None and cursor is None:
        return None
    return {
        "value": cursor.value if cursor else None,
        "kind": cursor.kind if cursor else spec.kind if spec else None,
        "updated_at": _iso(cursor.updated_at) if cursor else None,
        "task_id": cursor.task_id if cursor else None,
        "next_start": start.value if start else None,
        "next_start_from": ("cursor" if start.stored else "initial_value") if start else None,
        "incremental": spec.model_dump(mode="json") if spec else None,
    }


def status_view(status: SourceStatus) -> dict[str, Any]:
    job = status.job
    return {
        "source_id": status.source_id,
        "version": status.version,
        "enabled": status.enabled,
        "planned_until": status.planned_until.isoformat() if status.planned_until else None,
        "completed_until": status.completed_until.isoformat() if status.completed_until else None,
        "lag_seconds": status.lag_seconds,
        "job": {"name": job.name, "schedule": job.schedule, "config_version": job.config_version} if job else None,
        "last_runs": [run_view(r) for r in status.last_runs],
        "failures": [run_view(r) for r in status.failures],
        "max_attempts": status.max_attempts,
        "failing_windows": [window_retry_view(w) for w in status.failing_windows],
        "dead_windows": [window_retry_view(w) for w in status.dead_windows],
        "recovered_windows": [window_retry_view(w) for w in status.recovered_windows],
        "last_error": _last_error_view(status.last_error),
        "cursor": _cursor_view(status),
    }


@router.get("/runs")
async def list_runs(
    _auth: RequireToken, container: ContainerDep, source: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    return [run_view(r) for r in await container.queries.list_runs(source, limit)]


@router.get("/runs/{run_id}")
async def get_run(run_id: str, _auth: RequireToken, container: ContainerDep) -> dict[str, Any]:
    return run_view(await container.queries.get_run(run_id))


@router.get("/runs/{run_id}/progress")
async def get_run_progress(run_id: str, _auth: RequireToken, container: ContainerDep) -> dict[str, Any]:
    """The run and its counts so far: tasks by status, items/pages fetched, documents
    stored/duplicate/failed of those expected, records (``headwater runs watch``)."""
    run, progress = await container.queries.run_progress(run_id)
    return {"run": run_view(run), "progress": asdict(progress)}


@router.get("/sources/{source_id}/status")
async def source_status(source_id: str, _auth: RequireToken, container: ContainerDep) -> dict[str, Any]:
    return status_view(await container.queries.source_status(source_id))


class BackfillRequest(BaseModel):
    start: datetime
    end: datetime


@router.post("/sources/{source_id}/backfill")
async def backfill(
    source_id: str, body: BackfillRequest, _auth: RequireToken, container: ContainerDep
) -> dict[str, Any]:
    results = await container.triggers.backfill(source_id, body.start, body.end)
    return {
        "source_id": source_id,
        "runs": [{"run_id": r.run_id, "outcome": r.outcome.value, "work_items": r.work_items} for r in results],
    }
