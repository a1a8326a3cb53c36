"""MongoDB adapters for runs, source state (watermarks + lease) and the task ledger.

All writes are single-document and safe to repeat: the lease is one atomic
``find_one_and_update``; ``completed_until`` and the incremental ``cursor`` only move forward
through a conditional update; completed windows and task reports are keyed by the
deterministic task id.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from headwater.config.incremental import CursorValue
from headwater.contracts.messages import TaskResult, TaskStatus, TimeWindow
from headwater.edge.mongo import is_duplicate_key, retry_transient, upsert_retrying
from planner.adapters.mongo_codec import aware, cursor_doc, cursor_from_doc, window_doc, window_from_doc
from planner.domain.cursor import StoredCursor
from planner.domain.runs import Run, SourceState, run_error
from planner.domain.watermarks import RunStatus, run_status_from_results

__all__ = ["MongoRunRepository", "MongoStateRepository", "MongoTaskLedger"]


@retry_transient()
class MongoStateRepository:
    """``source_state`` (``_id`` = source id) and ``completed_windows`` (``_id`` = task id)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._state = db["source_state"]
        self._done = db["completed_windows"]

    async def get(self, source_id: str) -> SourceState:
        doc = await self._state.find_one({"_id": source_id}) or {}
        return SourceState(
            source_id,
            aware(doc.get("planned_until")),
            aware(doc.get("completed_until")),
            cursor_from_doc(doc.get("cursor")),
        )

    async def try_lease(self, source_id: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        lease = {"owner": owner, "expires_at": now + ttl}
        free = {"_id": source_id, "$or": [{"lease": None}, {"lease.expires_at": {"$lt": now}}, {"lease.owner": owner}]}
        try:
            doc = await self._state.find_one_and_update(
                free, {"$set": {"lease": lease}}, upsert=True, return_document=ReturnDocument.AFTER
            )
        except OperationFailure as exc:  # the document exists and its lease is held by someone else
            if is_duplicate_key(exc):
                return False
            raise
        return doc is not None and doc.get("lease", {}).get("owner") == owner

    async def release_lease(self, source_id: str, owner: str) -> None:
        await self._state.update_one({"_id": source_id, "lease.owner": owner}, {"$set": {"lease": None}})

    async def set_planned_until(self, source_id: str, value: datetime, origin: datetime) -> None:
        await upsert_retrying(
            lambda: self._state.update_one({"_id": source_id}, {"$set": {"planned_until": value}}, upsert=True)
        )
        await self._state.update_one({"_id": source_id, "completed_until": None}, {"$set": {"completed_until": origin}})

    async def add_done_window(self, source_id: str, task_id: str, window: TimeWindow) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._done.insert_one({"_id": task_id, "source_id": source_id, **window_doc(window)})

    async def done_windows_from(self, source_id: str, start: datetime) -> list[TimeWindow]:
        cursor = self._done.find({"source_id": source_id, "to": {"$gt": start}}).sort("from", 1)
        return [w for doc in await cursor.to_list() if (w := window_from_doc(doc)) is not None]

    async def advance_completed_until(self, source_id: str, value: datetime) -> bool:
        result = await self._state.update_one(
            {"_id": source_id, "$or": [{"completed_until": None}, {"completed_until": {"$lt": value}}]},
            {"$set": {"completed_until": value}},
        )
        return result.modified_count == 1

    async def advance_cursor(self, source_id: str, cursor: StoredCursor) -> bool:
        """``domain.cursor.is_newer`` as one conditional update: the ``sort`` forms compared only
        within one kind (a datetime's fixed-width text with text, a number with a number)."""
        newer = {
            "_id": source_id,
            "$or": [{"cursor": None}, {"cursor.kind": {"$ne": cursor.kind}}, {"cursor.sort": {"$lt": cursor.sort}}],
        }
        try:
            result = await self._state.update_one(newer, {"$set": {"cursor": cursor_doc(cursor)}}, upsert=True)
        except OperationFailure as exc:  # the state exists and its cursor is as high already
            if is_duplicate_key(exc):
                return False
            raise
        return result.modified_count == 1 or result.upserted_id is not None


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
    )


@retry_transient()
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


@dataclass
class _Progress:
    source_id: str
    run_id: str | None
    fetch_status: str | None
    documents_expected: int | None
    document_status: dict[str, str] = field(default_factory=dict)
    window: TimeWindow | None = None
    errors: list[str] = field(default_factory=list)
    cursors: list[CursorValue] = field(default_factory=list)


@retry_transient()
class MongoTaskLedger:
    """``task_outcomes`` (``_id`` = task id): the reports of each task, kept as a set; each
    report carries its run, and a task's progress counts the reports of one run only."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._tasks = db["task_outcomes"]

    async def record(self, result: TaskResult) -> _Progress:
        report = {
            "reporter": result.reporter,
            "document_key": result.document_key or "",
            "status": result.status.value,
            "documents": int(result.counts.get("documents", 0)),
            "run_id": result.run_id,
            "error": result.error,
        } | ({"cursor": result.cursor} if result.cursor is not None else {})
        update: dict[str, Any] = {"$addToSet": {"reports": report}, "$set": {"source_id": result.source_id}}
        if result.run_id:
            update["$set"]["run_id"] = result.run_id
        if result.window is not None:
            update["$set"]["window"] = window_doc(result.window)
        doc = await upsert_retrying(
            lambda: self._tasks.find_one_and_update(
                {"_id": result.task_id}, update, upsert=True, return_document=ReturnDocument.AFTER
            )
        )
        if doc is None:  # cannot happen with upsert + AFTER; keeps the type honest
            raise RuntimeError(f"task outcome {result.task_id} vanished")
        run_id = result.run_id or doc.get("run_id")
        progress = _Progress(result.source_id, run_id, None, None, window=window_from_doc(doc.get("window")))
        for rep in doc.get("reports", []):
            if rep.get("run_id") != result.run_id:
                continue  # another run's try of the same task
            if rep.get("error"):
                progress.errors.append(rep["error"])
            if rep["reporter"] == "collection-model":
                if progress.fetch_status != TaskStatus.FAILED:
                    progress.fetch_status = rep["status"]
                    progress.documents_expected = rep["documents"]
            else:
                previous = progress.document_status.get(rep["document_key"])
                if previous != TaskStatus.FAILED:  # a failure of a document is not undone by a repeat
                    progress.document_status[rep["document_key"]] = rep["status"]
                if rep.get("cursor") is not None:
                    progress.cursors.append(rep["cursor"])
        return progress
