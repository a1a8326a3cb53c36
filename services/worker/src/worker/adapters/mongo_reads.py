"""``MongoStorageReads``: the operator API's reads of the worker's collections (audit trail,
summary tallies, a key's history). Aggregations group by ``source_id`` so a summary is one command per collection."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from worker.adapters.mongo_indexes import of_source
from worker.adapters.mongo_shapes import audit_entry
from worker.adapters.mongo_store import read_history
from worker.domain.audit import AuditEntry
from worker.domain.scd2 import RecordVersion
from worker.domain.summary import DocumentTally

__all__ = ["MongoStorageReads"]

Doc = dict[str, Any]


def _match(source_id: str | None) -> Doc:
    return {"source_id": source_id} if source_id else {}


def _ids_of(source_id: str | None) -> Doc:
    """One source of a collection keyed ``<source>:…`` (no ``source_id`` index there)."""
    return of_source(source_id) if source_id else {}


class MongoStorageReads:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._db = db

    async def audit_trail(self, source_id: str | None, document_id: str | None, limit: int) -> list[AuditEntry]:
        query = _match(source_id)
        if document_id:
            query["document_id"] = document_id
        rows = await self._db["audit"].find(query).sort("at", -1).limit(limit).to_list()
        return [audit_entry(r) for r in rows]

    async def document_tallies(self, source_id: str | None) -> list[DocumentTally]:
        group = {
            "$group": {
                "_id": {"s": "$source_id", "st": "$status"},
                "n": {"$sum": 1},
                "duplicates": {"$sum": "$duplicates"},
            }
        }
        cursor = await self._db["raw_documents"].aggregate([{"$match": _match(source_id)}, group])
        return [
            DocumentTally(d["_id"]["s"], d["_id"]["st"], d["n"], d["duplicates"] or 0) for d in await cursor.to_list()
        ]

    async def record_counts(self, source_id: str | None) -> dict[str, int]:
        return await self._count_by_source("records", {**_ids_of(source_id), "deleted": {"$ne": True}})

    async def rejected_row_counts(self, source_id: str | None) -> dict[str, int]:
        return await self._count_by_source("parsing_logs", _ids_of(source_id))

    async def record_history(self, source_id: str, natural_key: str) -> list[RecordVersion]:
        return await read_history(self._db, source_id, natural_key)

    async def _count_by_source(self, collection: str, match: Doc) -> dict[str, int]:
        cursor = await self._db[collection].aggregate(
            [{"$match": match}, {"$group": {"_id": "$source_id", "n": {"$sum": 1}}}]
        )
        return {d["_id"]: d["n"] for d in await cursor.to_list()}
