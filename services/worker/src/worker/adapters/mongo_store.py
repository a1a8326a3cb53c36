"""MongoDB adapters of the worker's ports.

Uniqueness is carried by deterministic ``_id``s (FerretDB makes unique compound indexes
~70x slower): ``raw_documents`` ``<source>:<sha256>``, ``records`` ``<source>:<key>``,
``record_versions`` ``<source>:<key>:v<n>``, ``dataset_versions`` the occurrence id
(``domain/streams``). Stream heads and snapshots: ``mongo_streams``.
Bulk writes go through ``bulk`` (one helper, ≤ 1,000 operations a command). The documents'
shapes are in ``mongo_shapes``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import InsertOne, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from headwater.edge.mongo import is_duplicate_key, retry_transient, upsert_retrying
from worker.adapters.mongo_indexes import of_source
from worker.adapters.mongo_shapes import (
    audit_doc,
    changes_doc,
    current_record_doc,
    dataset_version,
    dataset_version_doc,
    raw_begin,
    receipt,
    record_changes,
    record_version,
    record_version_doc,
    rejection_doc,
)
from worker.domain.audit import AuditReprocess, AuditRollback, AuditStep
from worker.domain.documents import DatasetVersion, Receipt, Rejection
from worker.domain.history import Retime
from worker.domain.scd2 import CurrentMove, RecordChange, RecordVersion, current_id, version_id

__all__ = [
    "MongoAuditLog",
    "MongoDatasetVersions",
    "MongoParsingLog",
    "MongoRawDocuments",
    "MongoRecordStore",
    "bulk",
    "insert_all",
]

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
            if not ignore_duplicates or not _only_duplicates(exc):
                raise
            done += exc.details.get("nInserted", 0) + exc.details.get("nMatched", 0)
    return done


async def insert_all(collection: AsyncCollection[Doc], docs: list[Doc]) -> int:
    """``insert_many`` in batches, unordered, a duplicate ``_id`` skipped; how many were inserted."""
    done = 0
    for i in range(0, len(docs), BATCH):
        try:
            done += len((await collection.insert_many(docs[i : i + BATCH], ordered=False)).inserted_ids)
        except BulkWriteError as exc:
            if not _only_duplicates(exc):
                raise
            done += exc.details.get("nInserted", 0)
    return done


def _only_duplicates(exc: BulkWriteError) -> bool:
    return all(e.get("code") == 11000 for e in exc.details.get("writeErrors", []))


@retry_transient()
class MongoRawDocuments:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._docs = db["raw_documents"]

    async def begin(self, receipt: Receipt, occurrence: str, now: datetime) -> None:
        update = raw_begin(receipt, occurrence, now)
        await upsert_retrying(lambda: self._docs.update_one({"_id": receipt.document_id}, update, upsert=True))

    async def count_duplicate(self, document_id: str) -> None:
        await self._docs.update_one({"_id": document_id}, {"$inc": {"duplicates": 1}})

    async def finish(self, document_id: str, status: str, counts: dict[str, int], error: str | None = None) -> None:
        await self._docs.update_one(
            {"_id": document_id},
            {"$set": {"status": status, "counts": counts, "error": error, "finished_at": datetime.now(UTC)}},
        )

    async def error(self, document_id: str) -> str | None:
        doc = await self._docs.find_one({"_id": document_id}, {"status": 1, "error": 1})
        return doc.get("error") if doc is not None and doc.get("status") == "failed" else None

    async def receipts(self, source_id: str, document_id: str | None, since: datetime | None) -> AsyncIterator[Receipt]:
        query: Doc = {"source_id": source_id}
        if document_id is not None:
            query["_id"] = document_id
        if since is not None:
            query["fetched_at"] = {"$gte": since}
        async for doc in self._docs.find(query).sort([("fetched_at", 1), ("_id", 1)]):
            yield receipt(doc)


def _at_seq(source_id: str, key: str, seq: int) -> Doc:
    """The current document of ``key`` while its ``seq`` is ``seq`` (documents written before
    ``seq`` existed: while their ``version`` is)."""
    return {
        "_id": current_id(source_id, key),
        "$or": [{"seq": seq}, {"seq": {"$exists": False}, "version": seq}],
    }


async def read_history(db: AsyncDatabase[Doc], source_id: str, key: str) -> list[RecordVersion]:
    """Every version of ``key``: the current document and the closed copies ``v1`` … ``v<seq>``."""
    doc = await db["records"].find_one({"_id": current_id(source_id, key)})
    if doc is None:
        return []
    current = record_version(doc, source_id)
    ids = [version_id(source_id, key, n) for n in range(1, current.last_number + 1)]
    closed = [record_version(d, source_id) async for d in db["record_versions"].find({"_id": {"$in": ids}})]
    return [*closed, current]


@retry_transient()
class MongoRecordStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._db = db
        self._current = db["records"]
        self._versions = db["record_versions"]

    async def current(self, source_id: str, keys: list[str]) -> dict[str, RecordVersion]:
        found: dict[str, RecordVersion] = {}
        for i in range(0, len(keys), BATCH):
            ids = [current_id(source_id, k) for k in keys[i : i + BATCH]]
            async for doc in self._current.find({"_id": {"$in": ids}}):
                found[doc["natural_key"]] = record_version(doc, source_id)
        return found

    async def archive(self, versions: list[RecordVersion]) -> None:
        await bulk(self._versions, [InsertOne(record_version_doc(v)) for v in versions], ignore_duplicates=True)

    async def set_current(self, moves: list[CurrentMove]) -> int:
        """Firsts are inserted (a key inserted meanwhile is a duplicate: the redelivery's), the
        others replace the current document while its ``seq`` is the expected one."""
        firsts = [current_record_doc(m.record) for m in moves if m.expected_seq is None]
        done = await insert_all(self._current, firsts)
        replaces = [
            ReplaceOne(_at_seq(m.record.source_id, m.record.natural_key, m.expected_seq), current_record_doc(m.record))
            for m in moves
            if m.expected_seq is not None
        ]
        return done + await bulk(self._current, replaces, ignore_duplicates=True)

    async def get_version(self, source_id: str, natural_key: str, version: int) -> RecordVersion | None:
        doc = await self._versions.find_one({"_id": version_id(source_id, natural_key, version)})
        return None if doc is None else record_version(doc, source_id)

    async def history(self, source_id: str, natural_key: str) -> list[RecordVersion]:
        return await read_history(self._db, source_id, natural_key)

    async def take_number(self, source_id: str, natural_key: str, expected_seq: int) -> bool:
        result = await self._current.update_one(
            _at_seq(source_id, natural_key, expected_seq), {"$set": {"seq": expected_seq + 1}}
        )
        return result.modified_count == 1

    async def retime(self, source_id: str, retimes: list[Retime]) -> None:
        for r in retimes:
            if r.current:
                where = {"_id": current_id(source_id, r.natural_key), "version": r.version}
                collection = self._current
            else:
                where, collection = {"_id": version_id(source_id, r.natural_key, r.version)}, self._versions
            await collection.update_one({**where, r.bound: r.old}, {"$set": {r.bound: r.new}})

    async def live_keys(self, source_id: str) -> AsyncIterator[str]:
        live = {**of_source(source_id), "deleted": {"$ne": True}}
        async for doc in self._current.find(live, {"natural_key": 1}):
            yield doc["natural_key"]


@retry_transient()
class MongoParsingLog:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._log = db["parsing_logs"]

    async def write(self, entries: list[Rejection]) -> None:
        # ids: <document>:<row>:<field>, so a redelivered document does not log twice
        await bulk(self._log, [InsertOne(rejection_doc(e)) for e in entries], ignore_duplicates=True)


@retry_transient()
class MongoDatasetVersions:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._versions = db["dataset_versions"]
        self._changes = db["dataset_changes"]

    async def add_changes(self, version_id: str, batch: int, changes: list[RecordChange]) -> list[RecordChange]:
        doc = changes_doc(version_id, batch, changes)
        if changes:
            try:
                await self._changes.insert_one(doc)
                return changes
            except OperationFailure as exc:
                if not is_duplicate_key(exc):
                    raise
        logged = await self._changes.find_one({"_id": doc["_id"]})
        return changes if logged is None else list(record_changes(logged))

    async def changes(self, version_id: str) -> AsyncIterator[RecordChange]:
        async for doc in self._changes.find({"version_id": version_id}).sort("_id", 1):
            for change in record_changes(doc):
                yield change

    async def record(self, version: DatasetVersion) -> None:
        await self._versions.replace_one({"_id": version.version_id}, dataset_version_doc(version), upsert=True)

    async def get(self, version_id: str) -> DatasetVersion | None:
        doc = await self._versions.find_one({"_id": version_id})
        return None if doc is None else dataset_version(doc)

    async def mark_rolled_back(self, version_id: str, at: datetime) -> bool:
        result = await self._versions.update_one(
            {"_id": version_id, "rolled_back_at": None}, {"$set": {"rolled_back_at": at}}
        )
        return result.modified_count == 1


@retry_transient()
class MongoAuditLog:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._audit = db["audit"]

    async def write(self, entry: AuditStep | AuditRollback | AuditReprocess) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._audit.insert_one(audit_doc(entry))
