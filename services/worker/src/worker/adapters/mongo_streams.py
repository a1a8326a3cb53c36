"""MongoDB adapters of the dedup and snapshot ports: ``stream_heads`` (``<source>:<stream>``),
``snapshots`` (``<task_id>:<run_id>``) and ``snapshot_keys`` (``<occurrence>:<batch>``).
Every decision is one conditional single-document write; the shapes are in ``mongo_shapes``."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from headwater.edge.mongo import is_duplicate_key, retry_transient, upsert_retrying
from worker.adapters.mongo_shapes import (
    snapshot_keys_doc,
    snapshot_part,
    snapshot_seal_doc,
    snapshot_state,
    stream_head,
    stream_head_doc,
)
from worker.domain.snapshots import SnapshotPart, SnapshotState
from worker.domain.streams import HeadStatus, StreamHead

__all__ = ["MongoSnapshots", "MongoStreamHeads"]

Doc = dict[str, Any]


@retry_transient()
class MongoStreamHeads:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._heads = db["stream_heads"]

    async def get(self, head_id: str) -> StreamHead | None:
        doc = await self._heads.find_one({"_id": head_id})
        return None if doc is None else stream_head(doc)

    async def put(self, head: StreamHead, expected_rev: int | None) -> bool:
        doc = stream_head_doc(head)
        if expected_rev is None:
            try:
                await self._heads.insert_one(doc)
            except Exception as exc:  # FerretDB may report the race as an InternalError
                if is_duplicate_key(exc):
                    return False
                raise
            return True
        result = await self._heads.replace_one({"_id": head.head_id, "rev": expected_rev}, doc)
        return result.matched_count == 1

    async def finish(self, head_id: str, occurrence: str, status: HeadStatus) -> None:
        await self._heads.update_one({"_id": head_id, "occurrence": occurrence}, {"$set": {"status": status}})

    async def renew(self, head_id: str, occurrence: str, owner: str, at: datetime) -> bool:
        result = await self._heads.update_one(
            {"_id": head_id, "occurrence": occurrence, "status": "processing", "owner": owner},
            {"$set": {"claimed_at": at}},
        )
        return result.matched_count == 1

    async def rolled_back(self, head_id: str, occurrence: str) -> bool:
        result = await self._heads.update_one(
            {"_id": head_id, "occurrence": occurrence, "status": "processed"},
            {"$set": {"status": "rolled_back"}, "$inc": {"rev": 1}},
        )
        return result.modified_count == 1


@retry_transient()
class MongoSnapshots:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._snapshots = db["snapshots"]
        self._keys = db["snapshot_keys"]

    async def add_part(self, part: SnapshotPart, now: datetime) -> SnapshotState:
        update = snapshot_part(part, now)

        async def upsert() -> Doc | None:
            return await self._snapshots.find_one_and_update(
                {"_id": part.snapshot_id}, update, upsert=True, return_document=ReturnDocument.AFTER
            )

        doc = await upsert_retrying(upsert)
        assert doc is not None
        return snapshot_state(doc)

    async def claim_sweep(self, snapshot_id: str, now: datetime, stale_after_s: float) -> bool:
        stale = now - timedelta(seconds=stale_after_s)
        result = await self._snapshots.update_one(
            {
                "_id": snapshot_id,
                "swept_at": None,
                "$or": [{"sweep_claimed_at": {"$exists": False}}, {"sweep_claimed_at": {"$lt": stale}}],
            },
            {"$set": {"sweep_claimed_at": now}},
        )
        return result.modified_count == 1

    async def swept(self, snapshot_id: str, at: datetime) -> None:
        await self._snapshots.update_one({"_id": snapshot_id}, {"$set": {"swept_at": at}})

    async def write_keys(self, occurrence: str, batch: int, keys: list[str]) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._keys.insert_one(snapshot_keys_doc(occurrence, batch, keys))

    async def seal_keys(self, occurrence: str, batches: int, complete: bool) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._keys.insert_one(snapshot_seal_doc(occurrence, batches, complete))

    async def read_keys(self, occurrence: str) -> set[str] | None:
        seal = await self._keys.find_one({"_id": f"{occurrence}:000000"})
        if seal is None or not seal.get("complete"):
            return None
        ids = [f"{occurrence}:{n:06d}" for n in range(1, seal["batches"] + 1)]
        keys: set[str] = set()
        async for doc in self._keys.find({"_id": {"$in": ids}}):
            keys.update(doc["keys"])
        return keys
