"""MongoDB adapter for ``task_reports``: one document per report of a task (the task ledger).

Each report of collection-model or the worker is inserted as a document of its own, ``_id`` =
``<task id>|<run id>|<digest of the report>``: a redelivered report is the same ``_id`` (a
duplicate insert, ignored), and concurrent reports never write the same document. (One
document per task, grown by concurrent ``$addToSet`` upserts, lost 1 to 3 of 101 concurrent adds
on FerretDB 2.5 when it did not exist yet.) The progress of a task in a run is read back as the
range of ``_id``s sharing the ``<task id>|<run id>|`` prefix, on the ``_id`` index; the read
follows the insert, so the last of concurrent reports sees them all. A run's progress
(``run_reports``) reads one such range per task of the run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from headwater.config.incremental import CursorValue
from headwater.contracts.messages import TaskResult, TaskStatus, TimeWindow
from headwater.edge.mongo import is_duplicate_key
from planner.adapters.mongo_codec import aware, window_doc, window_from_doc
from planner.adapters.mongo_errors import store_calls
from planner.domain.progress import StoredReport

__all__ = ["MongoTaskLedger", "report_document", "report_prefix"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_END = "~"  # sorts after every character of a report digest (hex)


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


def report_prefix(task_id: str, run_id: str | None) -> str:
    """The ``_id`` prefix of the reports of one task in one run (task ids never hold ``|``)."""
    return f"{task_id}|{run_id or '-'}|"


def report_document(result: TaskResult) -> dict[str, Any]:
    """The stored report, ``_id`` included (deterministic: the same report gets the same id)."""
    report = {
        "reporter": result.reporter,
        "document_key": result.document_key or "",
        "status": result.status.value,
        "documents": int(result.counts.get("documents", 0)),
        "error": result.error,
    } | ({"cursor": result.cursor} if result.cursor is not None else {})
    digest = hashlib.sha256(json.dumps(report, sort_keys=True, default=str).encode()).hexdigest()[:24]
    window = {"window": window_doc(result.window)} if result.window is not None else {}
    return {
        "_id": report_prefix(result.task_id, result.run_id) + digest,
        "task_id": result.task_id,
        "run_id": result.run_id,
        "source_id": result.source_id,
        "received_at": datetime.now(UTC),
        **window,
        **report,
        "counts": {k: int(v) for k, v in result.counts.items()},  # for the run's progress; not in the digest
    }


@store_calls()
class MongoTaskLedger:
    """``task_reports``: insert-only, one document per distinct report (see the module docstring)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._reports = db["task_reports"]

    async def record(self, result: TaskResult) -> _Progress:
        doc = report_document(result)
        try:
            await self._reports.insert_one(doc)
        except Exception as exc:  # a redelivered report: already there
            if not is_duplicate_key(exc):
                raise
        prefix = report_prefix(result.task_id, result.run_id)
        cursor = self._reports.find({"_id": {"$gte": prefix, "$lt": prefix + _END}})
        return _progress(result, await cursor.to_list())

    async def run_reports(self, run_id: str, task_ids: Sequence[str]) -> list[StoredReport]:
        ranges = [{"_id": {"$gte": p, "$lt": p + _END}} for p in (report_prefix(t, run_id) for t in task_ids)]
        if not ranges:
            return []
        docs = await self._reports.find({"$or": ranges}).to_list()
        return [_stored_report(doc) for doc in docs]


def _stored_report(doc: dict[str, Any]) -> StoredReport:
    return StoredReport(
        task_id=doc["task_id"],
        reporter=doc["reporter"],
        status=doc["status"],
        received_at=aware(doc.get("received_at")) or _EPOCH,
        document_key=doc.get("document_key") or "",
        counts={k: int(v) for k, v in (doc.get("counts") or {}).items()},
    )


def _progress(result: TaskResult, reports: list[dict[str, Any]]) -> _Progress:
    """What the reports of one task in one run add up to: a failed fetch or document report is
    not undone by a later one of the same; otherwise the latest received counts."""
    window = result.window or next((w for r in reports if (w := window_from_doc(r.get("window")))), None)
    progress = _Progress(result.source_id, result.run_id, None, None, window=window)
    for rep in sorted(reports, key=lambda r: (aware(r.get("received_at")) or _EPOCH, str(r["_id"]))):
        if rep.get("error"):
            progress.errors.append(rep["error"])
        if rep["reporter"] == "collection-model":
            if progress.fetch_status != TaskStatus.FAILED:
                progress.fetch_status = rep["status"]
                progress.documents_expected = rep["documents"]
        else:
            previous = progress.document_status.get(rep["document_key"])
            if previous != TaskStatus.FAILED:
                progress.document_status[rep["document_key"]] = rep["status"]
            if rep.get("cursor") is not None:
                progress.cursors.append(rep["cursor"])
    return progress
