"""MongoDB adapter for ``runs`` (``_id`` = run id): the audit of every trigger.

A run is inserted when planned and replaced when enqueued; task statuses are pushed once each
(a ``$push`` conditional on the task not being there) and the run's status is derived from
them by a write conditional on how many it saw. An overdue run is closed by one write
conditional on it still being open, so a sweep racing a last report or another sweep is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from headwater.contracts.messages import TaskStatus
from planner.adapters.mongo_codec import aware, window_doc, window_from_doc
from planner.adapters.mongo_errors import store_calls
from planner.domain.runs import NO_REPORT, OPEN, Run, missing_tasks, run_error
from planner.domain.watermarks import RunStatus, run_status_from_results

__all__ = ["MongoRunRepository"]

_OPEN = [status.value for status in OPEN]


def _run_doc(run: Run) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "source_id": run.source_id,
        "trigger": run.trigger,
        "triggered_at": run.triggered_at,
        "status": run.status.value,
        "config_version": run.config_version,
        "windows": [window_doc(w) for w in run.windows],
        "task_ids": run.task_ids,
        "counts": run.counts,
        "error": run.error,
        "updated_at": run.updated_at,
        # task ids hold ':' and '.', so task statuses are a list, not a map keyed by id
        "task_status": [_task_entry(run, k, v) for k, v in run.task_status.items()],
        "attempts": [{"task_id": k, "attempt": v} for k, v in run.attempts.items()],
        "deadline_at": run.deadline_at,
    }


def _task_entry(run: Run, task_id: str, status: str) -> dict[str, Any]:
    error = run.task_errors.get(task_id)
    return {"task_id": task_id, "status": status} | ({"error": error} if error else {})


def _run(doc: dict[str, Any]) -> Run:
    return Run(
        run_id=doc["run_id"],
        source_id=doc["source_id"],
        trigger=doc["trigger"],
        triggered_at=aware(doc["triggered_at"]) or datetime.now(UTC),
        status=RunStatus(doc["status"]),
        config_version=doc["config_version"],
        windows=[w for d in doc.get("windows", []) if (w := window_from_doc(d)) is not None],
        task_ids=doc.get("task_ids", []),
        counts=doc.get("counts", {}),
        error=doc.get("error"),
        updated_at=aware(doc.get("updated_at")),
        task_status={t["task_id"]: t["status"] for t in doc.get("task_status", [])},
        task_errors={t["task_id"]: t["error"] for t in doc.get("task_status", []) if t.get("error")},
        attempts={a["task_id"]: a["attempt"] for a in doc.get("attempts", [])},
        deadline_at=aware(doc.get("deadline_at")),
    )


@store_calls()
class MongoRunRepository:
    """``runs`` (``_id`` = run id)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._runs = db["runs"]

    async def insert(self, run: Run) -> None:
        await self._runs.insert_one({"_id": run.run_id, **_run_doc(run)})

    async def update(self, run: Run) -> None:
        await self._runs.replace_one({"_id": run.run_id}, _run_doc(run), upsert=True)

    async def record_task(
        self, run_id: str, task_id: str, status: str, now: datetime, error: str | None = None
    ) -> Run | None:
        """Add a task's final status and error (once), then set the run status and error derived
        from all of them. The write is conditional on the number of task statuses it was derived
        from, so a concurrent result that saw more of them wins."""
        entry = {"task_id": task_id, "status": status} | ({"error": error} if error else {})
        await self._runs.update_one(
            {"_id": run_id, "task_status.task_id": {"$ne": task_id}}, {"$push": {"task_status": entry}}
        )
        doc = await self._runs.find_one({"_id": run_id})
        if doc is None:
            return None
        run = _run(doc)
        if run.status in (RunStatus.FAILED, RunStatus.SKIPPED) and run.error:
            return run
        run.status = run_status_from_results(run.task_ids, run.task_status)
        run.error = run_error(run)
        await self._runs.update_one(
            {"_id": run_id, "task_status": {"$size": len(run.task_status)}},
            {"$set": {"status": run.status.value, "error": run.error, "updated_at": now}},
        )
        return run

    async def get(self, run_id: str) -> Run | None:
        doc = await self._runs.find_one({"_id": run_id})
        return _run(doc) if doc else None

    async def list(self, source_id: str | None = None, limit: int = 50) -> list[Run]:
        query = {"source_id": source_id} if source_id else {}
        cursor = self._runs.find(query).sort("triggered_at", -1).limit(limit)
        return [_run(doc) for doc in await cursor.to_list()]

    async def overdue(self, now: datetime, limit: int) -> Sequence[Run]:
        query = {"status": {"$in": _OPEN}, "deadline_at": {"$lte": now}}
        cursor = self._runs.find(query).sort("deadline_at", 1).limit(limit)
        return [_run(doc) for doc in await cursor.to_list()]

    async def close_overdue(self, run: Run, error: str, now: datetime) -> bool:
        entries = [{"task_id": t, "status": TaskStatus.FAILED.value, "error": NO_REPORT} for t in missing_tasks(run)]
        result = await self._runs.update_one(
            {"_id": run.run_id, "status": {"$in": _OPEN}},
            {
                "$set": {"status": RunStatus.FAILED.value, "error": error, "updated_at": now},
                "$push": {"task_status": {"$each": entries}},
            },
        )
        return result.modified_count == 1
