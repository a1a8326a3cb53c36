"""MongoDB adapters of the worker's ports.

Uniqueness is carried by deterministic ``_id``s (FerretDB makes unique compound indexes
~70x slower): ``raw_documents`` ``<source>:<sha256>``, ``records`` ``<source>:<key>``,
``record_versions`` ``<source>:<key>:v<n>``, ``dataset_versions`` = the raw document id.
Bulk writes go through ``bulk`` (one helper, ≤ 1,000 operations a command).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import InsertOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from headwater.edge.mongo import retry_transient
from worker.service_layer.ports import Claim, RecordChange, StoredRecord

__all__ = ["MongoAuditLog", "MongoDatasetVersions", "MongoParsingLog", "MongoRawDocuments", "MongoRecordStore", "bulk"]

BATCH = 1000
Doc = dict[str, Any]


async def bulk(collection: AsyncCollection[Doc], ops: Sequence[Any], ignore_duplicates: bool = False) -> int:
    """Unordered bulk writes in batches; duplicates of deterministic ids may be ignored.
    Returns how many documents were inserted or matched."""
    done = 0
    for i in range(0, len(ops), BATCH):
        try:
            result = await collection.bulk_write(list(ops[i : i + BATCH]), ordered=False)
            done += result.inserted_count + result.matched_count + result.upserted_count
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if not ignore_duplicates or any(e.get("code") != 11000 for e in errors):
                raise
            done += exc.details.get("nInserted", 0) + exc.details.get("nMatched", 0)
    return done


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@retry_transient()
class MongoRawDocuments:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._docs = db["raw_documents"]

    async def claim(self, document_id: str, meta: dict[str, Any], now: datetime, stale_after_s: float) -> Claim:
        try:
            await self._docs.insert_one(
                {
                    "_id": document_id,
                    **meta,
                    "status": "processing",
                    "claimed_at": now,
                    "first_seen_at": now,
                    "deliveries": 1,
                }
            )
            return Claim("new", document_id)
        except DuplicateKeyError:
            pass
        # an earlier delivery stopped half-way (crash) → take it over once it is stale; a document
        # that failed (nothing of it was stored) is processed again, e.g. when replayed from the DLQ
        stale = now - timedelta(seconds=stale_after_s)
        taken = await self._docs.find_one_and_update(
            {"_id": document_id, "$or": [{"status": "processing", "claimed_at": {"$lt": stale}}, {"status": "failed"}]},
            {"$set": {"claimed_at": now, "status": "processing"}, "$inc": {"deliveries": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if taken is not None:
            return Claim("new", document_id)
        existing = await self._docs.find_one_and_update(
            {"_id": document_id, "status": "processed"}, {"$inc": {"duplicates": 1}}
        )
        return Claim(existing["status"] if existing else "in_progress", document_id)

    async def finish(self, document_id: str, status: str, counts: dict[str, int], error: str | None = None) -> None:
        await self._docs.update_one(
            {"_id": document_id},
            {"$set": {"status": status, "counts": counts, "error": error, "finished_at": datetime.now(UTC)}},
        )


@retry_transient()
class MongoRecordStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._current = db["records"]
        self._versions = db["record_versions"]

    async def current(self, source_id: str, keys: list[str]) -> dict[str, StoredRecord]:
        found: dict[str, StoredRecord] = {}
        for i in range(0, len(keys), BATCH):
            ids = [f"{source_id}:{k}" for k in keys[i : i + BATCH]]
            async for doc in self._current.find({"_id": {"$in": ids}}):
                found[doc["natural_key"]] = StoredRecord(
                    doc["natural_key"],
                    doc["version"],
                    doc["content_hash"],
                    _aware(doc["valid_from"]),
                    doc.get("data", {}),
                    doc.get("dataset_version"),
                )
        return found

    async def archive(self, source_id: str, versions: list[Doc]) -> None:
        await bulk(self._versions, [InsertOne(v) for v in versions], ignore_duplicates=True)

    async def set_current(self, source_id: str, pointers: list[tuple[Doc, int | None]]) -> int:
        ops: list[InsertOne[Doc] | UpdateOne] = []
        for doc, expected in pointers:
            if expected is None:
                ops.append(InsertOne(doc))
            else:
                ops.append(UpdateOne({"_id": doc["_id"], "version": expected}, {"$set": doc}))
        return await bulk(self._current, ops, ignore_duplicates=True)

    async def get_version(self, source_id: str, natural_key: str, version: int) -> Doc | None:
        return await self._versions.find_one({"_id": f"{source_id}:{natural_key}:v{version}"})

    async def remove_current(self, source_id: str, natural_key: str, expected_version: int) -> bool:
        result = await self._current.delete_one({"_id": f"{source_id}:{natural_key}", "version": expected_version})
        return result.deleted_count == 1


@retry_transient()
class MongoParsingLog:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._log = db["parsing_logs"]

    async def write(self, entries: list[Doc]) -> None:
        # ids: <document>:<row>:<field>, so a redelivered document does not log twice
        await bulk(self._log, [InsertOne(e) for e in entries], ignore_duplicates=True)


@retry_transient()
class MongoDatasetVersions:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._versions = db["dataset_versions"]
        self._changes = db["dataset_changes"]

    async def add_changes(self, version_id: str, batch: int, changes: list[RecordChange]) -> None:
        if not changes:
            return
        doc = {
            "_id": f"{version_id}:{batch:06d}",
            "version_id": version_id,
            "batch": batch,
            "changes": [[c.natural_key, c.new_version, c.previous_version] for c in changes],
        }
        with contextlib.suppress(DuplicateKeyError):
            await self._changes.insert_one(doc)

    async def changes(self, version_id: str) -> AsyncIterator[RecordChange]:
        async for doc in self._changes.find({"version_id": version_id}).sort("_id", 1):
            for key, new, previous in doc["changes"]:
                yield RecordChange(key, new, previous)

    async def record(self, version: Doc) -> None:
        await self._versions.replace_one({"_id": version["_id"]}, version, upsert=True)

    async def get(self, version_id: str) -> Doc | None:
        return await self._versions.find_one({"_id": version_id})

    async def mark_rolled_back(self, version_id: str, at: datetime) -> bool:
        result = await self._versions.update_one(
            {"_id": version_id, "rolled_back_at": None}, {"$set": {"rolled_back_at": at}}
        )
        return result.modified_count == 1


@retry_transient()
class MongoAuditLog:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._audit = db["audit"]

    async def write(self, entry: Doc) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._audit.insert_one(dict(entry))
