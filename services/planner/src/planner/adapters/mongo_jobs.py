"""MongoDB adapter of the planner's job registry: ``jobs``, one document per registered Dapr Job
(``_id`` = source id), since Dapr has no HTTP call that lists jobs. Writes are whole-document
upserts, safe to repeat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from headwater.edge.mongo import upsert_retrying
from planner.adapters.mongo_errors import store_calls
from planner.domain.jobs import RegisteredJob

__all__ = ["MongoJobRegistry"]

DUPLICATE_KEY = 11000
SCAN_BATCH = 1000  # documents decoded at a time by a whole-collection read: the event loop runs between batches


def _job_document(job: RegisteredJob) -> dict[str, Any]:
    return {
        "name": job.name,
        "source_id": job.source_id,
        "schedule": job.schedule,
        "config_version": job.config_version,
        "registered_at": job.registered_at,
        "pending_delete": job.pending_delete,
    }


@store_calls()
class MongoJobRegistry:
    """``jobs``: one document per registered Dapr Job, ``_id`` = source id."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._jobs = db["jobs"]

    async def get(self, source_id: str) -> RegisteredJob | None:
        doc = await self._jobs.find_one({"_id": source_id})
        return self._to_job(doc) if doc else None

    async def list(self) -> list[RegisteredJob]:
        return [self._to_job(doc) async for doc in self._jobs.find({}).batch_size(SCAN_BATCH)]

    async def put(self, job: RegisteredJob) -> None:
        await self._put(job)

    async def put_many(self, jobs: Sequence[RegisteredJob]) -> None:
        """One unordered bulk write of upserts; a job whose upsert raced another's (a duplicate
        key) is written again on its own."""
        if not jobs:
            return
        writes = [ReplaceOne({"_id": job.source_id}, _job_document(job), upsert=True) for job in jobs]
        try:
            await self._jobs.bulk_write(writes, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            for error in errors:
                await self._put(jobs[error["index"]])

    async def remove(self, source_id: str) -> None:
        await self._jobs.delete_one({"_id": source_id})

    async def _put(self, job: RegisteredJob) -> None:
        await upsert_retrying(lambda: self._jobs.replace_one({"_id": job.source_id}, _job_document(job), upsert=True))

    @staticmethod
    def _to_job(doc: dict[str, Any]) -> RegisteredJob:
        registered_at = doc["registered_at"]
        return RegisteredJob(
            doc["name"],
            doc["source_id"],
            doc["schedule"],
            doc["config_version"],
            registered_at if registered_at.tzinfo else registered_at.replace(tzinfo=UTC),
            bool(doc.get("pending_delete")),
        )
