"""MongoDB adapter for ``failed_windows`` (``_id`` = task id): the windows being retried.

Every write is one document and conditional: an insert (a second insert of the same task id
loses on the ``_id``) or a replace of the revision that was read. No transaction and no
compound unique index is needed, so it runs unchanged on FerretDB.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from headwater.edge.mongo import is_duplicate_key
from planner.adapters.mongo_codec import aware, window_doc, window_from_doc
from planner.adapters.mongo_errors import store_calls
from planner.domain.retries import WindowRetry, WindowState

__all__ = ["MongoRetryRepository", "retry_document", "retry_from_document"]


def retry_document(retry: WindowRetry) -> dict[str, Any]:
    """The stored shape of a tracked window (without ``_id``, which is the task id)."""
    return {
        "task_id": retry.task_id,
        "source_id": retry.source_id,
        "window": window_doc(retry.window),
        "state": retry.state.value,
        "attempt": retry.attempt,
        "run_id": retry.run_id,
        "last_error": retry.last_error,
        "next_attempt_at": retry.next_attempt_at,
        "first_failed_at": retry.first_failed_at,
        "updated_at": retry.updated_at,
        "revision": retry.revision,
        "last_failed_at": retry.last_failed_at,
        "last_failed_run": retry.last_failed_run,
    }


def retry_from_document(doc: dict[str, Any]) -> WindowRetry:
    window = window_from_doc(doc["window"])
    if window is None:
        raise ValueError(f"failed window {doc.get('_id')} has no window")
    return WindowRetry(
        task_id=doc["task_id"],
        source_id=doc["source_id"],
        window=window,
        state=WindowState(doc["state"]),
        attempt=doc["attempt"],
        run_id=doc.get("run_id"),
        last_error=doc.get("last_error"),
        next_attempt_at=aware(doc.get("next_attempt_at")),
        first_failed_at=aware(doc["first_failed_at"]) or datetime.now(UTC),
        updated_at=aware(doc["updated_at"]) or datetime.now(UTC),
        revision=doc["revision"],
        last_failed_at=aware(doc.get("last_failed_at")),
        last_failed_run=doc.get("last_failed_run"),
    )


@store_calls()
class MongoRetryRepository:
    """``failed_windows``: insert-or-conditional-replace on the revision (see the module docstring)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._windows = db["failed_windows"]

    async def get(self, task_id: str) -> WindowRetry | None:
        doc = await self._windows.find_one({"_id": task_id})
        return retry_from_document(doc) if doc else None

    async def save(self, retry: WindowRetry) -> bool:
        doc = retry_document(retry)
        if retry.revision == 1:
            try:
                await self._windows.insert_one({"_id": retry.task_id, **doc})
            except OperationFailure as exc:  # MongoDB's DuplicateKeyError, or FerretDB's form of it
                if is_duplicate_key(exc):
                    return False
                raise
            return True
        result = await self._windows.replace_one({"_id": retry.task_id, "revision": retry.revision - 1}, doc)
        return result.modified_count == 1

    async def due(self, source_id: str, now: datetime, limit: int) -> list[WindowRetry]:
        query = {"source_id": source_id, "state": WindowState.FAILING.value, "next_attempt_at": {"$lte": now}}
        cursor = self._windows.find(query).sort("window.from", 1).limit(limit)
        return [retry_from_document(doc) for doc in await cursor.to_list()]

    async def list(self, source_id: str) -> list[WindowRetry]:
        cursor = self._windows.find({"source_id": source_id}).sort("window.from", 1)
        return [retry_from_document(doc) for doc in await cursor.to_list()]
